"""`runcard ui`: a local, read-only web app over a store (Starlette + uvicorn, the ``runcard[ui]`` extra).

Pages: the runs table of a project (``/runs``), a run (``/runs/ID``: its card, series, artifacts, config), a
comparison (``/compare?runs=A&runs=B``) and a summary or sweep (``/summary?project=P&sweep=S``); each also as
JSON under ``/api/``. `runcard.ui.app.create_app` builds the application; nothing here is imported by the CLI
until `runcard ui` runs. docs/ui.md describes the pages, the flags and the safety rules.
"""
