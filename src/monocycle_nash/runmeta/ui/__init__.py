"""``runmeta ui``: a read-only web page over the run history, standard library only.

``runmeta ui [--host 127.0.0.1] [--port 0] [--open]`` serves the runs (the filters of
``list-runs``, 50 a page), each run (its row, provenance, pictures, outputs, logs and
inputs), a comparison of runs side by side, and the projects. Modules:

- ``server.py``: HTTP (routing, headers, refusals, 405 for anything but GET and HEAD)
  and the server's life (``serve`` for the command, ``running`` for tests and scripts);
- ``pages.py``: the pieces every page shares, and the runs and projects pages;
- ``run_pages.py``: the page of one run and the comparison of runs;
- ``queries.py``: the reads the repositories lack (a keyed page of runs with a text
  search, project run counts);
- ``run_files.py``: a run folder's files, reached only through checked paths;
- ``html.py``: escaped-by-default HTML, the page shell, JSON values as tables;
- ``static/``: the stylesheet and the icon.

Nothing is imported from here: ``runmeta ui`` loads ``server`` on demand.
"""
