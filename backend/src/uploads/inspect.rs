//! What an uploaded file is, decided from its bytes (never its name or declared type), and
//! for images their displayed size and a thumbnail. Blocking: run off the async workers.

use crate::error::AppError;
use image::codecs::jpeg::JpegEncoder;
use image::codecs::png::PngEncoder;
use image::{DynamicImage, ImageDecoder, ImageFormat, ImageReader, Limits};
use std::fs::File;
use std::io::{BufReader, Read};
use std::path::Path;

/// Images whose header declares more pixels are refused before decoding (decompression bombs).
pub const MAX_IMAGE_PIXELS: u64 = 50_000_000;
/// The thumbnail fits in a square this many pixels wide.
pub const THUMBNAIL_EDGE: u32 = 400;
/// Bytes the type sniffer looks at.
const SNIFF_BYTES: usize = 8192;
/// Most memory one image decode may take: 50 Mpx at 4 bytes, plus room for the decoder.
const DECODE_MAX_ALLOC: u64 = 256 * 1024 * 1024;

/// What the bytes are.
#[derive(Debug)]
pub struct Inspected {
    /// The sniffed type, or `application/octet-stream` when unknown.
    pub content_type: String,
    pub image: Option<ImageInfo>,
}

#[derive(Debug)]
pub struct ImageInfo {
    /// As displayed: EXIF orientation applied.
    pub width: u32,
    pub height: u32,
    pub thumbnail: Thumbnail,
}

#[derive(Debug)]
pub struct Thumbnail {
    /// A fresh encoding of the pixels alone: no EXIF (so no location) survives.
    pub bytes: Vec<u8>,
    pub content_type: &'static str,
}

/// The images the server reads and shows inline.
fn image_format(content_type: &str) -> Option<ImageFormat> {
    match content_type {
        "image/png" => Some(ImageFormat::Png),
        "image/jpeg" => Some(ImageFormat::Jpeg),
        "image/gif" => Some(ImageFormat::Gif),
        "image/webp" => Some(ImageFormat::WebP),
        _ => None,
    }
}

/// Whether a stored type is one the server serves inline (its thumbnails included).
pub fn is_inline_image(content_type: &str) -> bool {
    image_format(content_type).is_some()
}

pub fn inspect(path: &Path) -> Result<Inspected, AppError> {
    let mut head = Vec::with_capacity(SNIFF_BYTES);
    File::open(path)
        .and_then(|f| f.take(SNIFF_BYTES as u64).read_to_end(&mut head))
        .map_err(AppError::internal)?;
    let content_type = infer::get(&head)
        .map(|kind| kind.mime_type().to_owned())
        .unwrap_or_else(|| "application/octet-stream".to_owned());
    let image = match image_format(&content_type) {
        Some(format) => Some(read_image(path, format)?),
        None => None,
    };
    Ok(Inspected {
        content_type,
        image,
    })
}

fn unreadable(e: impl std::fmt::Display) -> AppError {
    AppError::Validation(format!("the image could not be read: {e}"))
}

fn reader(path: &Path, format: ImageFormat) -> Result<ImageReader<BufReader<File>>, AppError> {
    let file = File::open(path).map_err(AppError::internal)?;
    Ok(ImageReader::with_format(BufReader::new(file), format))
}

fn read_image(path: &Path, format: ImageFormat) -> Result<ImageInfo, AppError> {
    // The header alone first: a bomb is refused before a pixel is decoded.
    let (width, height) = reader(path, format)?
        .into_dimensions()
        .map_err(unreadable)?;
    let pixels = u64::from(width) * u64::from(height);
    if pixels > MAX_IMAGE_PIXELS {
        return Err(AppError::Validation(format!(
            "the image has {pixels} pixels; at most {MAX_IMAGE_PIXELS} are accepted"
        )));
    }
    let mut reader = reader(path, format)?;
    let mut limits = Limits::default();
    limits.max_image_width = Some(width);
    limits.max_image_height = Some(height);
    limits.max_alloc = Some(DECODE_MAX_ALLOC);
    reader.limits(limits);
    let mut decoder = reader.into_decoder().map_err(unreadable)?;
    let orientation = decoder
        .orientation()
        .unwrap_or(image::metadata::Orientation::NoTransforms);
    let mut pixels = DynamicImage::from_decoder(decoder).map_err(unreadable)?;
    pixels.apply_orientation(orientation);
    let (width, height) = (pixels.width(), pixels.height());
    Ok(ImageInfo {
        width,
        height,
        thumbnail: thumbnail(pixels)?,
    })
}

/// At most `THUMBNAIL_EDGE` on each side (never enlarged); PNG when it has transparency,
/// else JPEG.
fn thumbnail(pixels: DynamicImage) -> Result<Thumbnail, AppError> {
    let small = if pixels.width() > THUMBNAIL_EDGE || pixels.height() > THUMBNAIL_EDGE {
        pixels.thumbnail(THUMBNAIL_EDGE, THUMBNAIL_EDGE)
    } else {
        pixels
    };
    let mut bytes = Vec::new();
    if small.color().has_alpha() {
        small
            .write_with_encoder(PngEncoder::new(&mut bytes))
            .map_err(AppError::internal)?;
        Ok(Thumbnail {
            bytes,
            content_type: "image/png",
        })
    } else {
        DynamicImage::ImageRgb8(small.to_rgb8())
            .write_with_encoder(JpegEncoder::new_with_quality(&mut bytes, 82))
            .map_err(AppError::internal)?;
        Ok(Thumbnail {
            bytes,
            content_type: "image/jpeg",
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use image::{ImageBuffer, Rgb, Rgba};
    use std::io::Write;

    fn file_with(bytes: &[u8]) -> tempfile::NamedTempFile {
        let mut file = tempfile::NamedTempFile::new().unwrap();
        file.write_all(bytes).unwrap();
        file
    }

    fn png(width: u32, height: u32, alpha: bool) -> Vec<u8> {
        let mut out = std::io::Cursor::new(Vec::new());
        if alpha {
            ImageBuffer::from_pixel(width, height, Rgba([10u8, 20, 30, 128]))
                .write_to(&mut out, ImageFormat::Png)
                .unwrap();
        } else {
            ImageBuffer::from_pixel(width, height, Rgb([10u8, 20, 30]))
                .write_to(&mut out, ImageFormat::Png)
                .unwrap();
        }
        out.into_inner()
    }

    #[test]
    fn an_image_gets_its_size_and_a_thumbnail_that_fits_in_400_square() {
        let file = file_with(&png(1000, 250, false));
        let found = inspect(file.path()).unwrap();
        assert_eq!(found.content_type, "image/png");
        let image = found.image.unwrap();
        assert_eq!((image.width, image.height), (1000, 250));
        assert_eq!(image.thumbnail.content_type, "image/jpeg");
        let thumb = image::load_from_memory(&image.thumbnail.bytes).unwrap();
        assert_eq!((thumb.width(), thumb.height()), (400, 100));
    }

    #[test]
    fn a_small_transparent_image_keeps_its_size_and_its_transparency() {
        let file = file_with(&png(40, 30, true));
        let image = inspect(file.path()).unwrap().image.unwrap();
        assert_eq!(image.thumbnail.content_type, "image/png");
        let thumb = image::load_from_memory(&image.thumbnail.bytes).unwrap();
        assert_eq!((thumb.width(), thumb.height()), (40, 30));
    }

    #[test]
    fn the_type_comes_from_the_bytes() {
        let html = file_with(b"<!doctype html><html><script>alert(1)</script></html>");
        let found = inspect(html.path()).unwrap();
        assert!(found.image.is_none());
        assert!(
            !is_inline_image(&found.content_type),
            "{}",
            found.content_type
        );
        let text = file_with(b"just some words");
        assert_eq!(
            inspect(text.path()).unwrap().content_type,
            "application/octet-stream"
        );
        let pdf = file_with(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n");
        assert_eq!(inspect(pdf.path()).unwrap().content_type, "application/pdf");
    }

    #[test]
    fn a_header_declaring_too_many_pixels_is_refused_without_decoding() {
        // A 1×1 PNG whose header claims 10,000 × 10,000 pixels: its pixel data is far too
        // short to decode, so a refusal that names the pixel count proves decoding never began.
        let mut bomb = png(1, 1, false);
        bomb[16..20].copy_from_slice(&10_000u32.to_be_bytes());
        bomb[20..24].copy_from_slice(&10_000u32.to_be_bytes());
        let crc = crc32(&bomb[12..29]);
        bomb[29..33].copy_from_slice(&crc.to_be_bytes());
        let file = file_with(&bomb);
        let err = inspect(file.path()).unwrap_err();
        assert!(err.to_string().contains("100000000 pixels"), "{err}");
    }

    /// PNG's chunk checksum (the IHDR must stay valid after the edit above).
    fn crc32(bytes: &[u8]) -> u32 {
        let mut crc = !0u32;
        for byte in bytes {
            crc ^= u32::from(*byte);
            for _ in 0..8 {
                crc = if crc & 1 != 0 {
                    0xEDB8_8320 ^ (crc >> 1)
                } else {
                    crc >> 1
                };
            }
        }
        !crc
    }

    #[test]
    fn a_broken_image_is_a_clear_refusal() {
        let mut broken = png(50, 50, false);
        broken.truncate(60);
        let file = file_with(&broken);
        let err = inspect(file.path()).unwrap_err();
        assert!(matches!(err, AppError::Validation(_)), "{err}");
    }
}
