"""The Streamlit app's helpers: pure glue between the widgets and the ``model`` package.

Pages (``app/pages/``) hold widgets and layout only. What a lever means for a scenario, which inputs
make no sense, the plain-language sentences and the summit pack live here, as plain functions
that the tests call without Streamlit. Only :mod:`app.state` imports Streamlit.
"""
