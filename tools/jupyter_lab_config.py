# The defaults of `bash tools/lab` (JupyterLab on the notebooks, the project's .venv as kernel). Options on its
# command line override them, e.g. `bash tools/lab --ip 0.0.0.0 --port 8890`.
import os
c = get_config()  # noqa: F821 (given by traitlets when it reads this file)
c.ServerApp.ip = '127.0.0.1'                          # this machine only; from a laptop: ssh -N -L 8888:127.0.0.1:8888 user@host
c.ServerApp.open_browser = False                      # the URL with its token is printed instead
c.ServerApp.allow_root = os.geteuid() == 0            # JupyterLab refuses to run as root without it
c.ServerApp.root_dir = os.path.join(os.path.dirname(os.path.abspath(__file__)), os.pardir, 'nbs')
