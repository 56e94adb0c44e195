//! Docker's multiplexed stream framing: each chunk of stdout or stderr is
//! preceded by `[stream, 0, 0, 0, len(u32 big-endian)]`.

use bytes::{BufMut, Bytes, BytesMut};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum StdStream {
    Stdin = 0,
    Stdout = 1,
    Stderr = 2,
    /// Errors of the engine itself, sent in-band (API 1.42+ clients print them).
    System = 3,
}

/// One frame: header plus payload.
pub fn frame(stream: StdStream, payload: &[u8]) -> Bytes {
    let mut buf = BytesMut::with_capacity(8 + payload.len());
    buf.put_u8(stream as u8);
    buf.put_bytes(0, 3);
    buf.put_u32(payload.len() as u32);
    buf.put_slice(payload);
    buf.freeze()
}

/// Splits one frame off the front of `buf`, if a whole one is there.
pub fn parse_frame(buf: &mut BytesMut) -> Option<(u8, Bytes)> {
    if buf.len() < 8 {
        return None;
    }
    let len = u32::from_be_bytes([buf[4], buf[5], buf[6], buf[7]]) as usize;
    if buf.len() < 8 + len {
        return None;
    }
    let stream = buf[0];
    let mut whole = buf.split_to(8 + len);
    Some((stream, whole.split_off(8).freeze()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frame_round_trip() {
        let f = frame(StdStream::Stderr, b"oops\n");
        assert_eq!(&f[..8], &[2, 0, 0, 0, 0, 0, 0, 5]);
        let mut buf = BytesMut::from(&f[..]);
        buf.extend_from_slice(&frame(StdStream::Stdout, b"partial")[..4]);
        assert_eq!(parse_frame(&mut buf), Some((2, Bytes::from_static(b"oops\n"))));
        assert_eq!(parse_frame(&mut buf), None);
    }
}
