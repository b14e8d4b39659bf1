"""Pages of the Streamlit app (app.py); UI only, the work happens in :mod:`sim`."""
