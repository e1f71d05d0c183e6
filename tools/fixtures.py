"""Test fixtures shared by notebooks (not part of the package): pictures a user might upload, made on the fly.

The notebooks load this file from a hidden cell (tools/ put on sys.path), as they load tools/browser.py.
"""
import io, struct, zlib
from pathlib import Path

def png_bytes(im):
    "A PIL image as the bytes of a PNG file."
    b = io.BytesIO()
    im.save(b, format='PNG')
    return b.getvalue()

def huge_png(path, side=20000):
    "Write a valid side x side 1-bit PNG (tiny on disk, huge decoded) at path: a test of the pixel limits."
    chunk = lambda t, d: struct.pack('>I', len(d)) + t + d + struct.pack('>I', zlib.crc32(t + d) & 0xffffffff)
    z, row = zlib.compressobj(9), b'\x00' + b'\x00' * ((side + 7) // 8)
    data = b''.join(z.compress(row) for _ in range(side)) + z.flush()
    ihdr = struct.pack('>IIBBBBB', side, side, 1, 0, 0, 0, 0)
    Path(path).write_bytes(b'\x89PNG\r\n\x1a\n' + chunk(b'IHDR', ihdr) + chunk(b'IDAT', data) + chunk(b'IEND', b''))
    return Path(path)

def input_kinds(tmp):
    "The same red picture as every kind of input the demo takes (name -> input), files written under tmp."
    import numpy as np, torch
    from PIL import Image
    red = Image.new('RGB', (64, 48), (200, 10, 30))
    red_chw = torch.from_numpy(np.array(red)).permute(2, 0, 1)
    grey16 = Image.fromarray(np.full((40, 40), 65535, np.uint16))
    cases = {'RGB': red, 'L': red.convert('L'), 'P': red.convert('P'), 'I;16': grey16,
             'RGBA-transparent': Image.new('RGBA', (40, 40), (0, 0, 0, 0)), 'CMYK': red.convert('CMYK'),
             'from PNG bytes': png_bytes(red), 'uint8 HWC array': np.asarray(red),
             'float HWC array': np.asarray(red) / 255, 'uint16 grey array': np.full((40, 40), 65535, np.uint16),
             'uint8 CHW tensor': red_chw, 'float CHW tensor': red_chw / 255}
    (Path(tmp) / 'red.jpg').write_bytes(b'')
    red.save(Path(tmp) / 'red.png')
    cases['path'] = Path(tmp) / 'red.png'
    cases['16-bit PNG file'] = png_bytes(grey16)
    pal_t = Image.new('P', (40, 40))
    pal_t.putpalette([0, 0, 0, 200, 10, 30] + [0] * 762)
    pal_t.info['transparency'] = 0
    cases['palette, transparent'] = png_bytes(pal_t)
    return cases

def expected_colours(cases):
    "The mean colour each of input_kinds' inputs shows where it is not the red of the RGB picture."
    import numpy as np
    white = (255,) * 3
    grey = (int(np.asarray(cases['RGB'].convert('L'))[0, 0]),) * 3
    return {'L': grey, 'I;16': white, 'RGBA-transparent': white, 'uint16 grey array': white, '16-bit PNG file': white,
            'palette, transparent': white}
