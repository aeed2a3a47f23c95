"""Calibrate page: check a pathway extract (uploaded, or the synthetic example) and what it says.

The upload stays in this session's memory: it is validated and pseudonymised on reading and is
never written to disk. Tables exported from it suppress counts below 5.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, cast

import pandas as pd
import streamlit as st

from app.state import persist, shipped
from app.upload import code_counts, frame_from_upload, suppress_small
from calibration.extract import ExtractError, problems_frame, quality_report, read_extract
from calibration.observed import month_range, monthly_flows

EXAMPLE_DATE = dt.date(2025, 12, 31)


@st.cache_data(show_spinner="Making the synthetic example extract…")
def example_extract(extract_date: dt.date) -> pd.DataFrame:
    """A synthetic extract from the default scenario (24 months to the extract date)."""
    from calibration.synth import synthesise_extract

    return synthesise_extract(shipped("default")[0], extract_date, history_months=24)


def show_problems(error: ExtractError) -> None:
    count = len(error.problems)
    st.error(f"**This extract cannot be used as it is: {count} problem(s).** Each row below says "
             "where the problem is and how to fix it. Fix them in the extract and upload it "
             "again, or choose *set the bad rows aside* to use the rest.")
    st.dataframe(problems_frame(error.problems).head(500), hide_index=True, width="stretch")
    if count > 500:
        st.caption(f"The first 500 of {count} problems are shown.")


def show_table(table) -> None:  # type: ignore[no-untyped-def]
    report = quality_report(table)
    st.success(f"Read {report['input_rows']:,} referrals to {report['extract_date']}: "
               f"{report['valid_rows']:,} usable, {report['quarantined_rows']:,} set aside.")
    c = st.columns(4)
    c[0].metric("Usable referrals", f"{report['valid_rows']:,}")
    c[1].metric("Still waiting (wait censored at the extract date)",
                f"{report['still_waiting']:,}")
    c[2].metric("Assessment started", f"{report['assessed']:,}")
    c[3].metric("Left without assessment", f"{report['discharged']:,}")
    if len(table.quarantine):
        st.warning(f"{len(table.quarantine)} row(s) were set aside, never dropped silently; "
                   "their problems are listed below (ids are pseudonyms).")
        st.dataframe(table.quarantine[["row", "problems"]], hide_index=True, width="stretch")
    months = month_range(table.data["referral_date"].min(), table.extract_date)
    flows = suppress_small(monthly_flows(table.data, months))
    st.subheader("Month by month (counts below 5 suppressed)")
    st.dataframe(flows, hide_index=True, width="stretch")
    filled = cast(dict[str, float], report["completeness"])
    completeness = pd.DataFrame({"column": list(filled),
                                 "filled (%)": [round(100 * v, 1) for v in filled.values()]})
    codes = suppress_small(code_counts(report), ["children"])
    left, right = st.columns(2)
    left.dataframe(completeness, hide_index=True, width="stretch")
    right.dataframe(codes, hide_index=True, width="stretch")
    st.download_button("Monthly counts (CSV, small counts suppressed)", flows.to_csv(index=False),
                       "monthly_counts.csv", mime="text/csv", key="cal_dl_monthly",
                       on_click="ignore")
    st.download_button("Codes (CSV, small counts suppressed)", codes.to_csv(index=False),
                       "codes.csv", mime="text/csv", key="cal_dl_codes", on_click="ignore")


def page() -> None:
    st.title("Calibrate from your service's data")
    st.markdown("Upload a patient-level pathway extract (one row per referral: `referral_id`, "
                "`referral_date`, and where you have them the assessment, discharge, triage and "
                "support dates; see DESIGN.md 4a), or try the synthetic example. The file stays "
                "in this session's memory; ids are replaced by pseudonyms as it is read.")
    persist("cal_source", "cal_extract_date", "cal_on_error")
    st.session_state.setdefault("cal_source", "example")
    st.session_state.setdefault("cal_extract_date", EXAMPLE_DATE)
    st.session_state.setdefault("cal_on_error", "stop")
    source = st.radio("Data", ["example", "upload"], key="cal_source", horizontal=True,
                      format_func={"example": "The synthetic example",
                                   "upload": "Upload an extract"}.__getitem__)
    upload = None
    if source == "upload":
        upload = st.file_uploader("Extract (CSV, Excel or Parquet)",
                                  type=["csv", "txt", "xlsx", "xlsm", "xls", "parquet", "pq"],
                                  key="cal_upload")
    extract_date = st.date_input("Extract date (the day the data was pulled)",
                                 key="cal_extract_date", format="DD/MM/YYYY")
    on_error = st.radio("When rows have problems", ["stop", "quarantine"], key="cal_on_error",
                        horizontal=True,
                        format_func={"stop": "stop and list them",
                                     "quarantine": "set the bad rows aside"}.__getitem__)
    if source == "upload" and upload is None:
        st.info("Choose a file to check it.")
        return
    try:
        if upload is not None:
            raw = frame_from_upload(upload.name, upload.getvalue())
        else:
            raw = example_extract(extract_date)
        table = read_extract(raw, cast(Any, extract_date), on_error=cast(Any, on_error))
    except ExtractError as error:
        show_problems(error)
        return
    show_table(table)

    st.subheader("Fit, calibrate and back-test")
    # A calibrated scenario starts from the children waiting on the extract date, which the model
    # reads from a backlog file; writing one would put uploaded patient data on disk.
    st.info("Fitting and back-testing are not on this page yet: a calibrated scenario starts "
            "from the children waiting on the extract date, which ndpath reads from a file, and "
            "this app keeps uploaded data in memory only. Run `ndpath calibrate EXTRACT "
            "--extract-date D --out DIR` on your own machine; the other pages use the shipped, "
            "illustrative scenarios.")

try:
    page()
except Exception as error:  # noqa: BLE001 - the user sees a message, never a traceback
    st.error(f"Something went wrong reading the data: {error}. Check the file and try again.")
