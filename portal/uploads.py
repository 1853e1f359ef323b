"""Return photos on disk: images only (checked by content, not by name), size-limited in bytes
and in pixels, re-encoded (decoded and written afresh: no EXIF, GPS position, ICC profile or
text chunk survives, nor anything appended after the image data), stored under UPLOAD_DIR
(never under static/) with random names, served by a view that checks access.
"""

import io
import secrets
import warnings
from pathlib import Path

from PIL import Image, ImageOps, UnidentifiedImageError

from portal.returns.errors import DomainError
from portal.returns.requests import PhotoRef

# Pillow format -> (content type, file extension)
ALLOWED = {
    "JPEG": ("image/jpeg", ".jpg"),
    "PNG": ("image/png", ".png"),
    "WEBP": ("image/webp", ".webp"),
    "GIF": ("image/gif", ".gif"),
}
MAX_PIXELS = 40_000_000  # a decompression bomb is refused before it is decoded
MAX_SIDE = 4000  # a larger photo is scaled down to this many pixels on its longer side
KEEP_INFO = ("transparency",)  # the only metadata a re-encoded image keeps


class InvalidUpload(DomainError):
    """The file is not a photo we accept; the message says why."""


def _mb(size):
    return f"{size / (1024 * 1024):g} MB"


def read_image(stream, filename, max_bytes, max_pixels=MAX_PIXELS):
    """(bytes, format) of an uploaded image, or InvalidUpload with a readable message."""
    name = filename or "the file"
    data = stream.read(max_bytes + 1)
    if not data:
        raise InvalidUpload(f"{name} is empty.")
    if len(data) > max_bytes:
        raise InvalidUpload(f"{name} is too large: photos can be at most {_mb(max_bytes)}.")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as probe:
                fmt = probe.format
                if probe.width * probe.height > max_pixels:
                    raise InvalidUpload(f"{name} has too many pixels for a photo.")
                probe.verify()  # structure check; the image can't be used after verify()
            with Image.open(io.BytesIO(data)) as image:  # reopen and decode it for real
                image.load()
    except InvalidUpload:
        raise
    except (UnidentifiedImageError, Image.DecompressionBombError, Image.DecompressionBombWarning,
            OSError, SyntaxError, ValueError, EOFError):  # fmt: skip
        raise InvalidUpload(
            f"{name} is not a photo we can read: upload a JPEG, PNG, WebP or GIF image."
        ) from None
    if fmt not in ALLOWED:
        raise InvalidUpload(f"{name} is not a JPEG, PNG, WebP or GIF image.")
    return data, fmt


def reencode(data, fmt, max_side=MAX_SIDE):
    """The image decoded and written again in its own format: turned upright by its EXIF
    orientation, then without EXIF (GPS), ICC profile, comments or text chunks, without
    whatever followed the image data, only the first frame of an animation, and at most
    `max_side` pixels on its longer side."""
    with Image.open(io.BytesIO(data)) as original:
        original.seek(0)
        image = ImageOps.exif_transpose(original)
        image.load()
    if max(image.size) > max_side:
        image.thumbnail((max_side, max_side), Image.Resampling.LANCZOS)
    options = {}
    if fmt == "JPEG":
        if image.mode not in ("RGB", "L"):
            image = image.convert("RGB")
        options = {"quality": 90, "optimize": True}
    elif fmt == "WEBP":
        options = {"quality": 90}
    elif fmt == "PNG":
        options = {"optimize": True}
    image.info = {key: value for key, value in image.info.items() if key in KEEP_INFO}
    out = io.BytesIO()
    image.save(out, fmt, **options)
    return out.getvalue()


def store_photo(file_storage, upload_dir, max_bytes, max_pixels=MAX_PIXELS, max_side=MAX_SIDE):
    """Check, re-encode and store one uploaded photo; returns a PhotoRef for the return
    request (its size is that of the stored file)."""
    data, fmt = read_image(file_storage.stream, file_storage.filename, max_bytes, max_pixels)
    try:
        data = reencode(data, fmt, max_side)
    except (OSError, ValueError, SyntaxError, EOFError):
        raise InvalidUpload(
            f"{file_storage.filename or 'the file'} is not a photo we can read: upload a JPEG, "
            "PNG, WebP or GIF image."
        ) from None
    content_type, ext = ALLOWED[fmt]
    folder = Path(upload_dir)
    folder.mkdir(parents=True, exist_ok=True)
    stored_name = secrets.token_hex(16) + ext
    path = folder / stored_name
    with open(path, "xb") as out:  # "x": never overwrite
        out.write(data)
    return PhotoRef(stored_name, content_type, len(data))


def store_photos(files_by_key, upload_dir, max_bytes):
    """{key: [FileStorage]} -> {key: (PhotoRef, ...)}; on any bad file, nothing is kept."""
    stored, kept = {}, []
    try:
        for key, files in files_by_key.items():
            for file in files:
                kept.append(store_photo(file, upload_dir, max_bytes))
                stored[key] = (*stored.get(key, ()), kept[-1])
    except Exception:
        delete_photos(kept, upload_dir)
        raise
    return stored


def delete_photos(photos, upload_dir):
    for photo in photos:
        path = photo_path(upload_dir, photo.stored_name)
        if path is not None:
            path.unlink(missing_ok=True)


def photo_path(upload_dir, stored_name):
    """The file for a stored name, or None if the name could point outside UPLOAD_DIR."""
    if not stored_name or "/" in stored_name or "\\" in stored_name or stored_name[0] == ".":
        return None
    folder = Path(upload_dir).resolve()
    path = (folder / stored_name).resolve()
    return path if path.parent == folder else None


LOGO_MAX_SIDE = 600  # a logo is shown small: a larger one is scaled down to this


def read_logo(file_storage, max_bytes, max_pixels=MAX_PIXELS):
    """(bytes, content type) of an uploaded logo, checked and re-encoded like a photo."""
    data, fmt = read_image(file_storage.stream, file_storage.filename, max_bytes, max_pixels)
    try:
        data = reencode(data, fmt, LOGO_MAX_SIDE)
    except (OSError, ValueError, SyntaxError, EOFError):
        raise InvalidUpload(
            f"{file_storage.filename or 'the file'} is not an image we can read: upload a "
            "JPEG, PNG, WebP or GIF image."
        ) from None
    return data, ALLOWED[fmt][0]
