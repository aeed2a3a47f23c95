"""ndpath app: test changes to the children's autism/ADHD assessment pathway.

Run with ``python3.11 dev.py app`` (or ``streamlit run streamlit_app.py``) and open
http://localhost:8501. The pages hold widgets and layout only; the model lives in ``model``.
"""

from __future__ import annotations

import streamlit as st

st.set_page_config(page_title="ndpath: assessment pathway projections",
                   page_icon=":material/show_chart:", layout="wide")

PAGES = [
    st.Page("pages/scenario.py", title="Scenario", icon=":material/tune:", default=True),
    st.Page("pages/compare.py", title="Compare", icon=":material/compare:"),
    st.Page("pages/calibrate.py", title="Calibrate", icon=":material/straighten:"),
    st.Page("pages/present.py", title="Present", icon=":material/co_present:"),
]

st.navigation(PAGES).run()
