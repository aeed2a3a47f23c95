"""ndpath app: test changes to the children's autism/ADHD assessment pathway.

Run with ``python3.11 dev.py app`` (or ``streamlit run streamlit_app.py``) and open
http://localhost:8501. The pages hold widgets and layout only; the model lives in ``model``.
"""

from __future__ import annotations


def main() -> None:
    import streamlit as st

    st.set_page_config(page_title="ndpath: assessment pathway projections",
                       page_icon=":material/show_chart:", layout="wide")

    # The page scripts live in app/pages/, not pages/: a pages/ folder would also be served by
    # Streamlit's older folder convention, so a deep link such as /present would bypass this
    # file.
    pages = [
        st.Page("app/pages/scenario.py", title="Scenario", icon=":material/tune:", default=True),
        st.Page("app/pages/compare.py", title="Compare", icon=":material/compare:"),
        st.Page("app/pages/calibrate.py", title="Calibrate", icon=":material/straighten:"),
        st.Page("app/pages/present.py", title="Present", icon=":material/co_present:"),
    ]
    st.navigation(pages).run()


# Streamlit runs this file as __main__. The replications' worker processes (started from a fork
# server, app/state.py) import the main module again, as __mp_main__, before their first task:
# there it must not draw the app.
if __name__ == "__main__":
    main()
