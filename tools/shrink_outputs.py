"""Re-encode the PNG pictures stored in the notebooks' outputs as palette PNGs, where that makes them smaller.

Stored outputs are what the docs show, so the pictures stay; but a figure saved by matplotlib as a 24-bit PNG is
several times larger than the same picture with 256 colours (no dithering: the plots' flat colours stay exact,
and photos of 32x32 images lose nothing visible). `tools/docs_check.py` keeps every notebook under 250 KB; run
this after re-executing a notebook whose outputs grew:  python tools/shrink_outputs.py [nbs/NAME.ipynb ...]
"""
import base64, io, json, sys
from pathlib import Path
from PIL import Image

def shrink_png(data:bytes, colors:int=256) -> bytes:
    "The PNG `data` as a palette PNG of at most `colors` colours, if that is smaller; else `data` unchanged."
    im = Image.open(io.BytesIO(data))
    if im.mode == 'P': return data
    rgb = im.convert('RGBA' if 'A' in im.mode else 'RGB')
    q = rgb.quantize(colors, method=Image.Quantize.FASTOCTREE if rgb.mode == 'RGBA' else Image.Quantize.MEDIANCUT,
                     dither=Image.Dither.NONE)
    out = io.BytesIO(); q.save(out, 'png', optimize=True)
    return out.getvalue() if out.tell() < len(data) else data

def shrink_notebook(path:Path) -> tuple:
    "Shrink every image/png output of the notebook at `path` in place; returns (bytes before, bytes after)."
    before = path.stat().st_size
    nb = json.loads(path.read_text())
    for c in nb['cells']:
        for o in c.get('outputs', []):
            png = o.get('data', {}).get('image/png')
            if png: o['data']['image/png'] = base64.b64encode(shrink_png(base64.b64decode(''.join(png)))).decode()
    path.write_text(json.dumps(nb, indent=1, ensure_ascii=False) + '\n')
    return before, path.stat().st_size

if __name__ == '__main__':
    root = Path(__file__).resolve().parent.parent
    for p in [Path(a) for a in sys.argv[1:]] or sorted((root / 'nbs').glob('*.ipynb')):
        b, a = shrink_notebook(p)
        if a != b: print(f'{p.name}: {b:,} -> {a:,} bytes')
    print('run nbdev_clean now (it normalises the notebooks)')
