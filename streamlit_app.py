"""ndpath app: test changes to the children's autism/ADHD assessment pathway.

Run with ``python3.11 dev.py app`` (or ``streamlit run streamlit_app.py``) and open
http://localhost:8501. The pages hold widgets and layout only; the model lives in ``model``.
"""

from __future__ import annotations

import streamlit as st

st.set_page_config(page_title="ndpath: assessment pathway projections",
                   page_icon=":material/show_chart:", layout="wide")

# The page scripts live in app/pages/, not pages/: a pages/ folder would also be served by
# Streamlit's older folder convention, so a deep link such as /present would bypass this file.
PAGES = [
    st.Page("app/pages/scenario.py", title="Scenario", icon=":material/tune:", default=True),
    st.Page("app/pages/compare.py", title="Compare", icon=":material/compare:"),
    st.Page("app/pages/calibrate.py", title="Calibrate", icon=":material/straighten:"),
    st.Page("app/pages/present.py", title="Present", icon=":material/co_present:"),
]

st.navigation(PAGES).run()
