"""The picture of the package: its modules by floor, and a check that the book reads forward.

Each module of the package sits one floor above the highest module it imports (the core, which imports
nothing of ours, is the ground floor); the table is drawn from the `import` statements themselves, so it cannot
drift from the code. The book's order is the order of the notebooks in nbs/ (their numeric prefixes, then their
names), each notebook exporting the module its `#| default_exp` names. A module that imports a module whose
notebook comes LATER in the book makes the reader read forward: this prints each such import and exits 1
(as it does for an import cycle). A module that no notebook exports (a stale file) is named, without failing.

    python tools/house.py            # the table, then the check
    python tools/house.py --quiet    # the check only
"""
import argparse, ast, json, re, sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def our_imports(path, package):
    "The modules of `package` that the module at `path` imports (at any depth of the file)."
    found = set()
    for node in ast.walk(ast.parse(Path(path).read_text())):
        if isinstance(node, ast.ImportFrom):
            mod = node.module or ''
            if node.level == 1:
                found |= {mod.split('.')[0]} if mod else {a.name for a in node.names}
            elif mod.startswith(package + '.'):
                found.add(mod.split('.')[1])
            elif mod == package:
                found |= {a.name for a in node.names}
        elif isinstance(node, ast.Import):
            found |= {a.name.split('.')[1] for a in node.names if a.name.startswith(package + '.')}
    return found


def book(nbs):
    "module -> (position in the book, notebook name), from the `#| default_exp` of every notebook under `nbs`."
    def key(p):
        m = re.match(r'(\d+)', p.name)
        return (int(m.group(1)) if m else float('inf'), str(p.relative_to(nbs)))
    order = {}
    for i, nb in enumerate(sorted(nbs.rglob('*.ipynb'), key=key)):
        if '.ipynb_checkpoints' in nb.parts:
            continue
        for cell in json.loads(nb.read_text()).get('cells', []):
            for line in ''.join(cell.get('source', '')).splitlines():
                if line.replace(' ', '').startswith('#|default_exp'):
                    order.setdefault(line.split('default_exp', 1)[1].strip(), (i, nb.name))
    return order


def floors(deps):
    "module -> floor (1 + the highest floor it imports); a ValueError names an import cycle."
    floor = {}
    def level(m, seen=()):
        if m in seen:
            raise ValueError(f"import cycle: {' -> '.join(seen + (m,))}")
        if m not in floor:
            floor[m] = 1 + max((level(d, seen + (m,)) for d in deps[m]), default=-1)
        return floor[m]
    for m in deps:
        level(m)
    return floor


def house(package='cifar_resnet', root=ROOT):
    "(rows of the table, top floor first; the problems: imports that read forward, cycles, modules without a chapter)."
    lib, nbs = root / package, root / 'nbs'
    mods = {p.stem: p for p in lib.glob('*.py') if not p.stem.startswith('_')}
    deps = {m: our_imports(p, package) & set(mods) - {m} for m, p in mods.items()}
    chapters = book(nbs)
    try:
        floor = floors(deps)
    except ValueError as e:
        return [], [str(e)]
    problems = []
    for m in sorted(mods, key=lambda m: chapters.get(m, (float('inf'), ''))):
        if m not in chapters:
            problems.append(f"{package}/{m}.py: no notebook in nbs/ exports it (#| default_exp {m}): a stale file?")
            continue
        for d in sorted(deps[m]):
            if d in chapters and chapters[d][0] > chapters[m][0]:
                problems.append(f"{m} ({chapters[m][1]}) imports {d}, whose chapter {chapters[d][1]} comes later "
                                "in the book: move the shared code down, or the chapter up.")
    job = lambda m: (ast.get_docstring(ast.parse(mods[m].read_text())) or '').split('\n')[0]
    rows = [dict(floor=floor[m], module=m, chapter=chapters.get(m, (0, '-'))[1],
                 imports=', '.join(sorted(deps[m], key=lambda d: (floor[d], d))) or '-', job=job(m))
            for m in sorted(mods, key=lambda m: (-floor[m], m))]
    return rows, problems


def table(rows, width=120):
    "The rows as aligned text, the job cut to fit `width`."
    cols = ['floor', 'module', 'chapter', 'imports', 'job']
    w = {c: max([len(c)] + [len(str(r[c])) for r in rows]) for c in cols[:-1]}
    lines = []
    for r in [dict(zip(cols, cols))] + rows:
        head = '  '.join(str(r[c]).ljust(w[c]) for c in cols[:-1])
        job = str(r['job'])
        room = max(width - len(head) - 2, 20)
        lines.append(f"{head}  {job if len(job) <= room else job[:room - 3] + '...'}")
    return '\n'.join(lines)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--package', default='cifar_resnet', help='the package to draw (default: cifar_resnet)')
    p.add_argument('--quiet', action='store_true', help='print only the problems')
    args = p.parse_args(argv)
    rows, problems = house(args.package)
    if rows and not args.quiet:
        print(table(rows))
    for line in problems:
        print(f"house: {line}", file=sys.stderr)
    if not problems:
        print(f"house: {len(rows)} modules; every import points to an earlier chapter of the book")
    return 1 if any('no notebook' not in line for line in problems) else 0


if __name__ == '__main__':
    sys.exit(main())
