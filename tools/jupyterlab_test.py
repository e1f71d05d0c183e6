"""The widgets in a real JupyterLab, as a user sees them: run by tools/tests.d/jupyterlab (so by `bash tools/test`).

JupyterLab is started by the README's command, `bash tools/lab` (127.0.0.1, no browser, `--allow-root` when run as
root), on a free port, with a random token, a temporary root folder and temporary Jupyter folders. A notebook in that folder builds a tiny model, the synthetic
fixture and two runs' logs, and opens the log explorer, the Grad-CAM explorer and the class browser. Headless Chromium
(`tools/browser.py`'s `headless_chromium`) opens it in JupyterLab, runs all cells, and checks that each widget renders as
controls (no "Error displaying widget", no plain-text repr), that its picture is shown at its natural size, and that
changing a control redraws the picture (the image bytes differ). Everything is removed at the end: the server and its
kernel are stopped, the browser is closed, the temporary folder is deleted.

Without Chromium and chromedriver the check fails when $CIFAR_RESNET_REQUIRE_BROWSER or $CI is set (tools/test sets
it) and is skipped otherwise. `--screenshots DIR` keeps a screenshot of each step (and of a failure) in DIR.
"""
import argparse, importlib.util, json, os, re, shutil, signal, socket, subprocess, sys, tempfile, time, urllib.request, uuid
from pathlib import Path

TOOLS = Path(__file__).resolve().parent
sys.path.insert(0, str(TOOLS))
from browser import find_chromium, headless_chromium, missing_message   # tools/browser.py: test tooling
STEP_TIMEOUT = 30     # seconds for one redraw after a control changed
RUN_TIMEOUT = 240     # seconds for JupyterLab to start, the kernel to run the notebook, the widgets to appear

class CheckFailed(Exception): "A check of the widgets failed; the message says which and what was seen."

FIXTURE = '''\
import sys, torch
from pathlib import Path
from cifar_resnet.data import make_synthetic_cifar100, load_cifar100
from cifar_resnet.model import ResNet
from cifar_resnet.logs import write_logs
from cifar_resnet.evaluate import evaluate_checkpoint
from cifar_resnet.widgets import log_explorer, gradcam_explorer, class_browser
torch.set_num_threads(1)
print('kernel prefix:', sys.prefix)
data = load_cifar100(make_synthetic_cifar100('fixture', n_train=100, n_test=200), download=False)
torch.manual_seed(0); net = ResNet((1, 1, 1, 1), num_classes=100, widths=(8, 16, 32, 64))
res = evaluate_checkpoint(net, data, n_bootstrap=20, n_top_losses=0, name='tiny model')
for run, k in (('run_a', 1.0), ('run_b', 0.5)):
    write_logs([dict(epoch=e, train_loss=2 / e, train_acc=8 * k * e, test_loss=1.5 / e, test_acc=10 * k * e, lr=0.1 / e) for e in range(1, 9)], Path(run))'''
WIDGETS = {'log explorer': "log_explorer(['run_a', 'run_b'])",
           'Grad-CAM explorer': 'gradcam_explorer(net, data, n=2)',
           'class browser': 'class_browser(res, net, data, n=2)'}

def write_notebook(path):
    "The notebook the browser runs: the fixture, then one cell per widget."
    cell = lambda src: dict(cell_type='code', execution_count=None, id=uuid.uuid4().hex[:8], metadata={}, outputs=[], source=src)
    nb = dict(cells=[cell(FIXTURE)] + [cell(src) for src in WIDGETS.values()], nbformat=4, nbformat_minor=5,
              metadata=dict(kernelspec=dict(name='python3', display_name='Python 3 (ipykernel)', language='python')))
    path.write_text(json.dumps(nb, indent=1))

def free_port():
    with socket.socket() as s: s.bind(('127.0.0.1', 0)); return s.getsockname()[1]

def wait_for(what, fn, timeout, poll=0.3):
    "Call `fn` until it returns something true, and return that; after `timeout` seconds fail, naming `what`."
    deadline, last = time.time() + timeout, None
    while time.time() < deadline:
        try:
            if (v := fn()): return v
        except CheckFailed: raise
        except Exception as e: last = e               # the page is changing under us: try again
        time.sleep(poll)
    raise CheckFailed(f'timed out after {timeout} s waiting for {what}' + (f' (last error: {last!r})' if last else ''))

class JupyterLab:
    "A JupyterLab server in `root`, on 127.0.0.1, with its own Jupyter folders under `home`; stopped by `stop`."
    def __init__(self, root, home):
        self.root, self.port, self.token = Path(root), free_port(), uuid.uuid4().hex
        settings = Path(home) / 'lab-settings' / '@jupyterlab' / 'apputils-extension'
        settings.mkdir(parents=True)                  # no news and update toasts over the page
        (settings / 'notification.jupyterlab-settings').write_text(json.dumps(dict(fetchNews='false', checkForUpdates=False)))
        env = dict(os.environ, JUPYTER_CONFIG_DIR=f'{home}/config', JUPYTER_DATA_DIR=f'{home}/data',
                   JUPYTER_RUNTIME_DIR=f'{home}/runtime', JUPYTERLAB_SETTINGS_DIR=f'{home}/lab-settings',
                   JUPYTERLAB_WORKSPACES_DIR=f'{home}/workspaces', IPYTHONDIR=f'{home}/ipython', JUPYTER_PLATFORM_DIRS='1')
        # the README's command (tools/lab: 127.0.0.1, no browser, --allow-root as root), in the test's folders
        cmd = ['bash', str(TOOLS / 'lab'), f'--ServerApp.port={self.port}', '--ServerApp.port_retries=0',
               f'--IdentityProvider.token={self.token}', f'--ServerApp.root_dir={self.root}',
               '--LabApp.expose_app_in_browser=True', '--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate']
        self.log_path = Path(home) / 'jupyterlab.log'
        self.log = open(self.log_path, 'w')
        # a session of its own: stopping it also stops the kernels it started
        self.proc = subprocess.Popen(cmd, cwd=self.root, env=env, stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True)

    @property
    def url(self): return f'http://127.0.0.1:{self.port}'

    def log_tail(self, n=3000): return self.log_path.read_text(errors='replace')[-n:]

    def wait_ready(self, timeout):
        def up():
            if self.proc.poll() is not None:
                raise CheckFailed(f'JupyterLab exited with status {self.proc.returncode}:\n{self.log_tail()}')
            with urllib.request.urlopen(f'{self.url}/api/status?token={self.token}', timeout=5) as r: return r.status == 200
        wait_for('JupyterLab to answer on ' + self.url, up, timeout)

    def stop(self):
        if self.proc.poll() is None:
            for sig, wait in ((signal.SIGTERM, 20), (signal.SIGKILL, 10)):
                try: os.killpg(self.proc.pid, sig)
                except ProcessLookupError: break
                try: self.proc.wait(wait); break
                except subprocess.TimeoutExpired: continue
        self.log.close()

# JavaScript run in the page (through JupyterLab's application object, exposed by --LabApp.expose_app_in_browser)
JS_KERNEL = '''const w = window.jupyterapp && jupyterapp.shell.currentWidget;
const k = w && w.sessionContext && w.sessionContext.session && w.sessionContext.session.kernel;
return k ? k.connectionStatus + '/' + k.status : null;'''
JS_CELLS = '''return jupyterapp.shell.currentWidget.content.widgets.map(c => ({
  count: c.model.executionCount, outputs: c.model.outputs.toJSON(), source: c.model.sharedModel.getSource(),
  text: (c.node.querySelector('.jp-OutputArea') || {innerText: ''}).innerText,
  widget: !!c.node.querySelector('.jp-OutputArea .jupyter-widgets')}));'''
JS_CELL_NODE = 'return jupyterapp.shell.currentWidget.content.widgets[arguments[0]].node;'
JS_CONTROL = '''const [cell, label, sel] = arguments;
for (const w of cell.querySelectorAll('.jp-OutputArea .lm-Widget')) {
  const l = w.querySelector(':scope > label, :scope > .widget-label');
  if (l && l.textContent.trim() === label) { const found = Array.from(w.querySelectorAll(sel)); return found.length ? found : null; } }
return null;'''
JS_IMAGE = '''const img = arguments[0];
const r = img.getBoundingClientRect(), shown = getComputedStyle(img).display !== 'none' && r.width > 0;
return {shown: shown, complete: img.complete, natural: [img.naturalWidth, img.naturalHeight],
        rendered: [Math.round(r.width), Math.round(r.height)], room: Math.round(img.parentElement.getBoundingClientRect().width)};'''
JS_IMAGE_HASH = '''const [img, done] = [arguments[0], arguments[arguments.length - 1]];
if (!img.src || !img.complete || !img.naturalWidth) { done(null); return; }
fetch(img.src).then(r => r.arrayBuffer()).then(b => {
  const a = new Uint8Array(b); let h = 2166136261;
  for (let i = 0; i < a.length; i++) h = Math.imul(h ^ a[i], 16777619) >>> 0;
  done(a.length + ':' + h); }).catch(() => done(null));'''

class Page:
    "The notebook open in JupyterLab in headless Chromium, with the checks of its widgets."
    def __init__(self, drv, shots):
        self.drv, self.shots, self.n_shot = drv, shots, 0

    def outputs_text(self, n=400):
        "What each cell shows below it, shortened: for a failure's message."
        try: cells = self.drv.execute_script(JS_CELLS)
        except Exception as e: return f'(the page cannot be read: {e!r})'
        return '\n'.join(f"cell {i} [{c['count']}]: {' '.join(c['text'].split())[:n] or '(no output)'}" for i, c in enumerate(cells))

    def shot(self, name):
        if self.shots: self.n_shot += 1; self.drv.save_screenshot(str(self.shots / f'{self.n_shot:02d}_{name}.png'))

    def run_all(self, lab, timeout):
        self.drv.get(f'{lab.url}/lab/tree/widgets.ipynb?token={lab.token}')
        # click into the notebook, as a user does: headless Chromium starts without the focus, and JupyterLab's
        # current widget (which the commands and the scripts here act on) follows the focus
        # (on its first cell: a click on the empty space below the last cell adds a cell in JupyterLab 4)
        def find_cell():
            cell = self.drv.find_element('css selector', '.jp-NotebookPanel .jp-Notebook .jp-Cell .jp-InputPrompt')
            return cell if cell.is_displayed() and cell.size['width'] > 0 else None
        first = wait_for('the notebook to show', find_cell, timeout)
        self.click(first)
        wait_for('the notebook to open with its kernel idle', lambda: self.drv.execute_script(JS_KERNEL) == 'connected/idle', timeout)
        self.drv.execute_script("jupyterapp.commands.execute('notebook:run-all-cells')")
        def done():
            cells = [c for c in self.drv.execute_script(JS_CELLS) if c['source'].strip()]   # an empty cell is none
            for i, c in enumerate(cells):
                for o in c['outputs']:
                    if o['output_type'] == 'error':
                        tb = re.sub(r'\x1b\[[0-9;]*m', '', '\n'.join(o['traceback']))      # without the colours
                        raise CheckFailed(f"cell {i} raised {o['ename']}: {o['evalue']}\n{tb[-2000:]}")
            busy = self.drv.execute_script(JS_KERNEL) != 'connected/idle'
            return None if busy or any(c['count'] is None for c in cells) or not all(c['widget'] for c in cells[1:]) else cells
        return wait_for('the notebook to run and show its three widgets', done, timeout, poll=1)

    def check_rendered(self, name, cell):
        "The widget is drawn as controls: no widget error, no plain-text repr such as 'VBox(children=...)'."
        for bad in ('Error displaying widget', 'VBox(children=', 'Loading widget'):
            if bad in cell['text']: raise CheckFailed(f'the {name} shows {bad!r} instead of its controls:\n{cell["text"][:500]}')
        widget = [o for o in cell['outputs'] if 'application/vnd.jupyter.widget-view+json' in o.get('data', {})]
        if not widget: raise CheckFailed(f'the {name} cell has no widget output: {json.dumps(cell["outputs"])[:500]}')

    def cell(self, i):
        node = self.drv.execute_script(JS_CELL_NODE, i)
        self.drv.execute_script("arguments[0].scrollIntoView({block: 'start'})", node)
        return node

    def control(self, cell, label, selector, text=None):
        "The element `selector` (with this `text`, if given) inside the control labelled `label` of a widget."
        def find():
            found = self.drv.execute_script(JS_CONTROL, cell, label, selector) or []
            return next((e for e in found if text is None or e.text.strip() == text), None)
        el = wait_for(f'the control {label!r}' + (f' ({text})' if text else ''), find, 10)
        self.drv.execute_script("arguments[0].scrollIntoView({block: 'center'})", el)
        return el

    def image(self, cell):
        return wait_for('the picture', lambda: cell.find_element('css selector', 'img.jupyter-widget-image, img.widget-image'), 10)

    def picture(self, name, img, before=None, timeout=STEP_TIMEOUT):
        "Wait until the picture is shown (and differs from `before`); check it is at its natural size; return its hash."
        def ready():
            h = self.drv.execute_async_script(JS_IMAGE_HASH, img)
            return h if h and h != before else None
        h = wait_for(f'the {name} to ' + ('draw its picture' if before is None else 'redraw its picture'), ready, timeout)
        st = self.drv.execute_script(JS_IMAGE, img)
        if not st['shown']: raise CheckFailed(f'the {name} picture is hidden: {st}')
        if st['rendered'][0] != st['natural'][0]:
            raise CheckFailed(f"the {name} picture is {st['natural'][0]} pixels wide but shown {st['rendered'][0]} wide "
                              f"(room: {st['room']} pixels): it must be shown at its natural size. {st}")
        return h, st

    def select(self, el, text):
        from selenium.webdriver.support.ui import Select
        s = Select(el)
        opt = next((o for o in s.options if o.text.startswith(text)), None)
        if opt is None: raise CheckFailed(f'no option {text!r} among {[o.text for o in s.options][:10]}')
        if s.is_multiple: opt.click()                 # toggles the option, as a ctrl-click does
        else: s.select_by_visible_text(opt.text)

    def click(self, el):
        from selenium.common.exceptions import ElementClickInterceptedException
        try: el.click()
        except ElementClickInterceptedException: self.drv.execute_script('arguments[0].click()', el)

def check_log_explorer(page, cells):
    name = 'log explorer'; page.check_rendered(name, cells[1]); node = page.cell(1); img = page.image(node)
    h, st = page.picture(name, img); page.shot('log_explorer')
    runs = page.control(node, 'runs', 'select')
    page.select(runs, 'run_b'); h, _ = page.picture(name + ' (one run fewer)', img, h)
    page.select(runs, 'run_a'); h, empty = page.picture(name + ' (no run selected)', img, h); page.shot('log_explorer_empty')
    if empty['natural'][1] > 80: raise CheckFailed(f'with no run selected the log explorer should show a one-line message, not a plot: {empty}')
    page.select(runs, 'run_a'); h, _ = page.picture(name + ' (a run again)', img, h)
    upper = page.control(node, 'epochs', '.noUi-handle-upper')
    from selenium.webdriver.common.keys import Keys
    upper.send_keys(Keys.ARROW_LEFT); h, _ = page.picture(name + ' (a shorter epoch range)', img, h)
    return f"plot {st['natural'][0]}x{st['natural'][1]} px, 4 redraws"

def check_gradcam_explorer(page, cells):
    name = 'Grad-CAM explorer'; page.check_rendered(name, cells[2]); node = page.cell(2); img = page.image(node)
    h, st = page.picture(name, img); page.shot('gradcam_explorer')
    page.select(page.control(node, 'class', 'select'), '006 bee'); h, _ = page.picture(name + ' (another class)', img, h)
    page.click(page.control(node, 'method', 'button', text='gradcam++')); h, _ = page.picture(name + ' (Grad-CAM++)', img, h); page.shot('gradcam_explorer_changed')
    return f"mosaic {st['natural'][0]}x{st['natural'][1]} px, 2 redraws"

def check_class_browser(page, cells):
    name = 'class browser'; page.check_rendered(name, cells[3]); node = page.cell(3); img = page.image(node)
    info = lambda: node.find_element('css selector', '.jupyter-widget-html, .widget-html').text
    if not info().startswith('No class selected'): raise CheckFailed(f'the class browser should start with no class selected: {info()!r}')
    if page.drv.execute_script(JS_IMAGE, img)['shown']: raise CheckFailed('the class browser shows a picture with no class selected')
    pick = page.control(node, 'class', 'select')
    page.select(pick, '012 bridge'); h, st = page.picture(name, img); page.shot('class_browser')
    if '012 bridge' not in info(): raise CheckFailed(f"the class browser's text does not name the class picked: {info()!r}")
    page.select(pick, '047 maple_tree'); h, _ = page.picture(name + ' (another class)', img, h)
    page.select(pick, '(pick a class)')
    wait_for('the class browser to hide its picture when no class is selected',
             lambda: not page.drv.execute_script(JS_IMAGE, img)['shown'] and info().startswith('No class selected'), STEP_TIMEOUT)
    return f"picture {st['natural'][0]}x{st['natural'][1]} px, 2 redraws and back to none"

def browser_or_exit():
    "Chromium and chromedriver; without them exit: failing when the browser is required, skipping otherwise."
    browser, driver = find_chromium()
    if browser and driver: return
    why = missing_message(browser, driver, 'the JupyterLab widget test')
    if os.environ.get('CI') or os.environ.get('CIFAR_RESNET_REQUIRE_BROWSER'): sys.exit(f'FAILED: {why}')
    print(f'SKIPPED: {why}'); sys.exit(0)

def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--screenshots', type=Path, help='keep a screenshot of each step (and of a failure) in this folder')
    args = ap.parse_args(argv)
    browser_or_exit()
    missing = [m for m in ('jupyterlab', 'ipywidgets') if importlib.util.find_spec(m) is None]
    if missing: sys.exit(f"FAILED: {' and '.join(missing)} not installed: pip install -e '.[dev]' (or '.[jupyter]').")
    import jupyterlab
    if args.screenshots: args.screenshots.mkdir(parents=True, exist_ok=True)
    t0, tmp = time.time(), Path(tempfile.mkdtemp(prefix='jupyterlab_test_'))
    lab = drv = page = None
    try:
        root = tmp / 'root'; root.mkdir()
        write_notebook(root / 'widgets.ipynb')
        lab = JupyterLab(root, tmp)
        drv = headless_chromium(tmp / 'chromium_profile')        # starts while JupyterLab does
        drv.set_window_size(1600, 1200); drv.set_script_timeout(20)
        lab.wait_ready(RUN_TIMEOUT)
        page = Page(drv, args.screenshots)
        cells = page.run_all(lab, RUN_TIMEOUT)
        prefix = next((l.split(':', 1)[1].strip() for o in cells[0]['outputs'] for l in ''.join(o.get('text', '')).splitlines()
                       if l.startswith('kernel prefix:')), None)
        if prefix is None or Path(prefix).resolve() != Path(sys.prefix).resolve():
            raise CheckFailed(f"the kernel runs in {prefix}, not in this environment ({sys.prefix})")
        print(f'JupyterLab {jupyterlab.__version__} on {lab.url} (kernel: {prefix}); notebook run after {time.time() - t0:.0f} s')
        for check in (check_log_explorer, check_gradcam_explorer, check_class_browser):
            print(f"  {check.__name__.removeprefix('check_').replace('_', ' ')}: {check(page, cells)}")
    except CheckFailed as e:
        print(f'FAILED: {e}', file=sys.stderr)
        if page: page.shot('failure'); print(f'--- what the notebook shows ---\n{page.outputs_text()}', file=sys.stderr)
        if lab: print(f'--- JupyterLab log (end) ---\n{lab.log_tail(1500)}', file=sys.stderr)
        return 1
    finally:
        if drv: drv.quit()
        if lab: lab.stop()
        shutil.rmtree(tmp, ignore_errors=True)
    print(f'widgets in JupyterLab: all checks passed in {time.time() - t0:.0f} s')
    return 0

if __name__ == '__main__': sys.exit(main())
