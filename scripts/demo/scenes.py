"""The demo model's data: flat-colour 128x128 scenes and their captions from a fixed grammar.

Grammar (every caption of it must work):
  a {colour} {shape} {position} on a {colour} background
  a {colour} {shape} {position} and a {colour} {shape} {position} on a {colour} background
Colours are CSS's; shapes circle/square/triangle; positions are cells of a 3x3 grid. Each object
lies inside its cell and fills 60-100 % of the cell's width; a second object never shares the
first one's cell; no object has its background's colour. Only numpy: runs on any machine.
"""
import numpy as np

SIZE = 128
COLOURS = {
    "red": (255, 0, 0), "green": (0, 128, 0), "blue": (0, 0, 255), "yellow": (255, 255, 0),
    "orange": (255, 165, 0), "purple": (128, 0, 128), "white": (255, 255, 255), "black": (0, 0, 0),
}
SHAPES = ("circle", "square", "triangle")
POSITIONS = {  # phrase -> (row, column) of the 3x3 grid
    "at the top left": (0, 0), "at the top right": (0, 2), "at the bottom left": (2, 0),
    "at the bottom right": (2, 2), "in the center": (1, 1),
}
# The cells that never hold an object: the background is measured there.
EDGE_MIDDLE_CELLS = ((0, 1), (1, 0), (1, 2), (2, 1))


def caption(objects, background):
    """objects: [(colour, shape, position phrase)], 1 or 2 of them."""
    parts = [f"a {c} {s} {p}" for c, s, p in objects]
    return " and ".join(parts) + f" on a {background} background"


JITTER = 0.06  # at most this fraction of the cell off centre, and always inside the cell


def sample_scene(rng):
    """A random scene: (objects, background, sizes, jitters) with the grammar's rules; jitters are
    offsets in [-1, 1] (scaled by JITTER)."""
    background = str(rng.choice(list(COLOURS)))
    n = 1 if rng.random() < 0.4 else 2
    positions = list(rng.permutation(list(POSITIONS)))[:n]
    objects, fills, jitters = [], [], []
    for p in positions:
        colour = str(rng.choice([c for c in COLOURS if c != background]))
        objects.append((colour, str(rng.choice(SHAPES)), str(p)))
        fills.append(float(rng.uniform(0.6, 1.0)))
        jitters.append((float(rng.uniform(-1, 1)), float(rng.uniform(-1, 1))))
    return objects, background, fills, jitters


def render(objects, background, fills, jitters, size=SIZE):
    """uint8 [size, size, 3]: the background, then each object inside its cell."""
    img = np.empty((size, size, 3), np.uint8)
    img[:] = COLOURS[background]
    cell = size / 3
    yy, xx = np.mgrid[0:size, 0:size].astype(np.float64) + 0.5
    for (colour, shape, phrase), fill, (jy, jx) in zip(objects, fills, jitters):
        row, col = POSITIONS[phrase]
        w = fill * cell
        # Centred in the cell (a triangle by its centroid, 2/3 down from the apex), shifted slightly,
        # and kept inside the cell.
        cy = (2 * w / 3) if shape == "triangle" else w / 2
        x0 = col * cell + cell / 2 - w / 2 + jx * JITTER * cell
        y0 = row * cell + cell / 2 - cy + jy * JITTER * cell
        x0 = min(max(x0, col * cell), (col + 1) * cell - w)
        y0 = min(max(y0, row * cell), (row + 1) * cell - w)
        if shape == "square":
            mask = (xx >= x0) & (xx < x0 + w) & (yy >= y0) & (yy < y0 + w)
        elif shape == "circle":
            r = w / 2
            mask = (xx - x0 - r) ** 2 + (yy - y0 - r) ** 2 < r * r
        else:  # an upward triangle: apex at the top middle, base at the bottom
            t = (yy - y0) / w
            mask = (t >= 0) & (t < 1) & (np.abs(xx - x0 - w / 2) <= t * w / 2)
        img[mask] = COLOURS[colour]
    return img


def parse(text):
    """A grammar caption -> (objects, background); raises ValueError otherwise."""
    if not text.startswith("a ") or " on a " not in text or not text.endswith(" background"):
        raise ValueError(f"not a demo caption: {text}")
    head, background = text[2:].rsplit(" on a ", 1)
    background = background[: -len(" background")]
    objects = []
    for part in head.split(" and a "):
        colour, shape, phrase = part.split(" ", 2)
        if colour not in COLOURS or shape not in SHAPES or phrase not in POSITIONS:
            raise ValueError(f"not a demo caption: {text}")
        objects.append((colour, shape, phrase))
    if background not in COLOURS:
        raise ValueError(f"not a demo caption: {text}")
    return objects, background


def all_captions():
    """Every caption of the grammar, in a fixed order."""
    out = []
    cs, ps = list(COLOURS), list(POSITIONS)
    for bg in cs:
        for c1 in cs:
            if c1 == bg:
                continue
            for s1 in SHAPES:
                for p1 in ps:
                    out.append(caption([(c1, s1, p1)], bg))
                    for c2 in cs:
                        if c2 == bg:
                            continue
                        for s2 in SHAPES:
                            for p2 in ps:
                                if p2 != p1:
                                    out.append(caption([(c1, s1, p1), (c2, s2, p2)], bg))
    return out


def held_out_captions(count=60, seed=20261130):
    """The evaluation captions: sampled from the grammar with a fixed seed, never trained on."""
    rng = np.random.default_rng(seed)
    seen, out = set(), []
    while len(out) < count:
        objects, bg, _, _ = sample_scene(rng)
        c = caption(objects, bg)
        if c not in seen:
            seen.add(c)
            out.append(c)
    return out


def nearest_colour(rgb):
    """The CSS colour name nearest to `rgb` (Euclidean)."""
    rgb = np.asarray(rgb, np.float64)
    return min(COLOURS, key=lambda k: float(np.sum((rgb - np.array(COLOURS[k], np.float64)) ** 2)))


def cell_median(img, row, col, inner=0.5):
    """Per-channel median of the central `inner` part (by width) of a grid cell."""
    size = img.shape[0]
    cell = size / 3
    m = cell * (1 - inner) / 2
    y0, y1 = int(round(row * cell + m)), int(round((row + 1) * cell - m))
    x0, x1 = int(round(col * cell + m)), int(round((col + 1) * cell - m))
    return np.median(img[y0:y1, x0:x1].reshape(-1, 3), axis=0)


def check(img, text):
    """(objects passed, objects, backgrounds passed (0/1), 1): the colour test of the issue."""
    objects, bg = parse(text)
    ok_obj = sum(nearest_colour(cell_median(img, *POSITIONS[p])) == c for c, _, p in objects)
    bg_votes = [nearest_colour(cell_median(img, r, c)) == bg for r, c in EDGE_MIDDLE_CELLS]
    return ok_obj, len(objects), int(all(bg_votes)), 1
