//! Layer compression: recognising gzip and zstd by their magic bytes, and
//! gzip-compressing layers that arrive uncompressed.

use std::io::{BufRead, BufReader, Read};

/// Wraps `blob` in the decompressor its magic bytes call for; plain tars
/// pass through.
pub fn decompress<'a>(blob: impl Read + 'a) -> std::io::Result<Box<dyn Read + 'a>> {
    let mut r = BufReader::with_capacity(256 * 1024, blob);
    let head = r.fill_buf()?;
    Ok(if head.starts_with(&GZIP_MAGIC) {
        Box::new(flate2::bufread::MultiGzDecoder::new(r))
    } else if head.starts_with(&ZSTD_MAGIC) {
        Box::new(zstd::stream::read::Decoder::with_buffer(r)?)
    } else {
        Box::new(r)
    })
}

const GZIP_MAGIC: [u8; 2] = [0x1f, 0x8b];
const ZSTD_MAGIC: [u8; 4] = [0x28, 0xb5, 0x2f, 0xfd];

/// The OCI media type of a layer blob starting with `head`.
pub fn layer_media_type(head: &[u8]) -> &'static str {
    if head.starts_with(&GZIP_MAGIC) {
        "application/vnd.oci.image.layer.v1.tar+gzip"
    } else if head.starts_with(&ZSTD_MAGIC) {
        "application/vnd.oci.image.layer.v1.tar+zstd"
    } else {
        "application/vnd.oci.image.layer.v1.tar"
    }
}

/// Gzip at a fast level: layers are compressed once, when they enter the
/// store uncompressed (load, import, commit), so pushes can send them.
pub fn gzip<'a>(tar: impl Read + 'a) -> impl Read + 'a {
    flate2::read::GzEncoder::new(tar, flate2::Compression::fast())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_detection() {
        let mut gz = Vec::new();
        gzip(&b"plain tar bytes"[..]).read_to_end(&mut gz).unwrap();
        assert_eq!(layer_media_type(&gz), "application/vnd.oci.image.layer.v1.tar+gzip");
        let mut back = Vec::new();
        decompress(&gz[..]).unwrap().read_to_end(&mut back).unwrap();
        assert_eq!(back, b"plain tar bytes");
        let z = zstd::encode_all(&b"x"[..], 1).unwrap();
        assert_eq!(layer_media_type(&z), "application/vnd.oci.image.layer.v1.tar+zstd");
        assert_eq!(layer_media_type(b"ustar"), "application/vnd.oci.image.layer.v1.tar");
    }
}
