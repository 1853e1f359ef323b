"""Photos are re-encoded on upload (portal/uploads.py): a phone photo's GPS position (EXIF) and
anything hidden after the image data (an HTML tail, a polyglot) are not stored; a photo larger
than PHOTO_MAX_SIDE is scaled down and one over PHOTO_MAX_PIXELS is refused."""

import io
from pathlib import Path

from PIL import Image

from portal.models import ReturnPhoto
from tests import factories
from tests.pages import line_indexes, login, request_data, reviewed_digest

GPS_IFD = 0x8825
HTML_TAIL = b"<html><script>alert(document.cookie)</script></html>"


def phone_photo(size=(64, 48)):
    """A JPEG like a phone's: EXIF with a GPS position and the camera, an ICC profile and an
    HTML page appended after the image's end marker."""
    image = Image.effect_noise(size, 60).convert("RGB")
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"  # Make
    exif[0x0110] = "Phone 15"  # Model
    exif[0x0112] = 1  # orientation: upright
    gps = exif.get_ifd(GPS_IFD)
    gps[1] = "N"
    gps[2] = (52.0, 31.0, 12.0)
    gps[3] = "E"
    gps[4] = (13.0, 24.0, 36.0)
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", exif=exif, icc_profile=b"\0" * 128 + b"fake-icc")
    return buffer.getvalue() + HTML_TAIL


def upload(app, client, photo, name="phone.jpg"):
    """A shopper's return of one damaged cap with `photo` (its reason needs a photo): the
    review step, then the confirmation with the file."""
    with app.app_context():
        shopper, order, lines = factories.shop()
        reasons = factories.reasons()
    login(client, shopper.email)
    url = f"/orders/{order.number}/return"
    indexes = line_indexes(client.get(url).get_data(as_text=True))
    data = request_data(indexes, {lines["CAP"].id: (1, reasons["damaged"].id, "")})
    digest = reviewed_digest(client.post(url, data=data).get_data(as_text=True))
    payload = dict(data, step="confirm", reviewed=digest)
    payload[f"lines-{indexes[lines['CAP'].id]}-photos"] = [(io.BytesIO(photo), name)]
    return client.post(url, data=payload, content_type="multipart/form-data")


def stored_file(app):
    with app.app_context():
        photo = ReturnPhoto.get()
    return photo, Path(app.config["UPLOAD_DIR"]) / photo.stored_name


def test_a_phone_photo_is_stored_without_its_gps_position_or_html_tail(app, client):
    sent = phone_photo()
    with Image.open(io.BytesIO(sent)) as original:  # the upload does carry them
        assert original.getexif().get_ifd(GPS_IFD) and "icc_profile" in original.info
    assert HTML_TAIL in sent
    response = upload(app, client, sent)
    assert response.status_code == 303, response.get_data(as_text=True)[:2000]
    photo, path = stored_file(app)
    kept = path.read_bytes()
    assert b"<html" not in kept and b"script" not in kept
    assert b"PhoneMaker" not in kept and b"fake-icc" not in kept
    assert kept.endswith(b"\xff\xd9")  # nothing after the JPEG's end marker
    with Image.open(path) as image:
        assert image.format == "JPEG" and image.size == (64, 48)
        assert len(image.getexif()) == 0 and not image.getexif().get_ifd(GPS_IFD)
        assert "exif" not in image.info and "icc_profile" not in image.info
    assert photo.content_type == "image/jpeg" and photo.size == len(kept)


def test_a_large_photo_is_scaled_down_and_a_huge_one_refused(app, client):
    app.config["PHOTO_MAX_SIDE"] = 40
    response = upload(app, client, factories.png(size=(100, 50), noise=True), "wide.png")
    assert response.status_code == 303
    _, path = stored_file(app)
    with Image.open(path) as image:
        assert image.size == (40, 20)


def test_a_photo_over_the_pixel_limit_is_refused_and_nothing_is_stored(app, client):
    app.config["PHOTO_MAX_PIXELS"] = 1000
    response = upload(app, client, factories.png(size=(40, 40)), "big.png")
    assert response.status_code == 422
    assert "big.png has too many pixels for a photo." in response.get_data(as_text=True)
    with app.app_context():
        assert ReturnPhoto.select().count() == 0
    folder = Path(app.config["UPLOAD_DIR"])
    assert not folder.exists() or not any(folder.iterdir())
