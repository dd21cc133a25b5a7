//! Live capture as a pcapng stream.
//!
//! `flowlab-hub ctl SOCKET capture PORT|all` turns a management connection into a capture
//! sink: the switch writes a pcapng Section Header Block, then one Interface Description
//! Block per port the first time that port shows up (its name: `port3 uml <description>`),
//! then an Enhanced Packet Block per frame, stamped in microseconds and flagged inbound or
//! outbound. A sink never slows the datapath: it buffers up to [`SINK_BUFFER`] bytes and
//! drops frames (counted) past that.

/// Most bytes buffered for a slow capture reader.
pub const SINK_BUFFER: usize = 4 << 20;

const SHB: u32 = 0x0A0D_0D0A;
const IDB: u32 = 0x0000_0001;
const EPB: u32 = 0x0000_0006;
const BYTE_ORDER_MAGIC: u32 = 0x1A2B_3C4D;
const LINKTYPE_ETHERNET: u16 = 1;
const OPT_END: u16 = 0;
const IF_NAME: u16 = 2;
const IF_TSRESOL: u16 = 9;
const EPB_FLAGS: u16 = 2;
const SHB_USERAPPL: u16 = 4;

/// Direction of a captured frame.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Direction {
    /// Received by the switch on the port.
    Inbound,
    /// Sent by the switch out of the port.
    Outbound,
}

/// Which frames a sink wants.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CaptureFilter {
    /// Every frame once, at its ingress port.
    All,
    /// Frames received on or sent to one port.
    Port(u32),
}

/// A pcapng stream in the making: interface numbering and block encoding.
#[derive(Debug)]
pub struct PcapngWriter {
    interfaces: Vec<u32>,
    out: Vec<u8>,
    /// Frames dropped because the reader was too slow.
    pub dropped: u64,
}

impl PcapngWriter {
    /// A new stream, starting with its section header.
    pub fn new() -> Self {
        let mut w = PcapngWriter {
            interfaces: Vec::new(),
            out: Vec::new(),
            dropped: 0,
        };
        let mut body = Vec::new();
        body.extend_from_slice(&BYTE_ORDER_MAGIC.to_le_bytes());
        body.extend_from_slice(&1u16.to_le_bytes());
        body.extend_from_slice(&0u16.to_le_bytes());
        body.extend_from_slice(&(-1i64).to_le_bytes());
        push_option(
            &mut body,
            SHB_USERAPPL,
            concat!("flowlab-hub ", env!("CARGO_PKG_VERSION")).as_bytes(),
        );
        body.extend_from_slice(&OPT_END.to_le_bytes());
        body.extend_from_slice(&0u16.to_le_bytes());
        push_block(&mut w.out, SHB, &body);
        w
    }

    /// Appends one frame seen on `port` (named `port_name`) at `micros` since the epoch.
    /// Returns false (and counts a drop) if the buffer is full.
    pub fn frame(
        &mut self,
        port: u32,
        port_name: &str,
        dir: Direction,
        micros: u64,
        frame: &[u8],
    ) -> bool {
        if self.out.len() + frame.len() + 256 > SINK_BUFFER {
            self.dropped += 1;
            return false;
        }
        let iface = match self.interfaces.iter().position(|&p| p == port) {
            Some(i) => i,
            None => {
                let mut body = Vec::new();
                body.extend_from_slice(&LINKTYPE_ETHERNET.to_le_bytes());
                body.extend_from_slice(&0u16.to_le_bytes());
                body.extend_from_slice(&0u32.to_le_bytes()); // snaplen: no limit
                push_option(&mut body, IF_NAME, port_name.as_bytes());
                push_option(&mut body, IF_TSRESOL, &[6]);
                body.extend_from_slice(&OPT_END.to_le_bytes());
                body.extend_from_slice(&0u16.to_le_bytes());
                push_block(&mut self.out, IDB, &body);
                self.interfaces.push(port);
                self.interfaces.len() - 1
            }
        };
        let mut head = [0u8; 20];
        head[0..4].copy_from_slice(&(iface as u32).to_le_bytes());
        head[4..8].copy_from_slice(&((micros >> 32) as u32).to_le_bytes());
        head[8..12].copy_from_slice(&(micros as u32).to_le_bytes());
        head[12..16].copy_from_slice(&(frame.len() as u32).to_le_bytes());
        head[16..20].copy_from_slice(&(frame.len() as u32).to_le_bytes());
        let pad = (4 - frame.len() % 4) % 4;
        let flags: u32 = match dir {
            Direction::Inbound => 1,
            Direction::Outbound => 2,
        };
        let total = 12 + head.len() + frame.len() + pad + 8 + 4;
        self.out.extend_from_slice(&EPB.to_le_bytes());
        self.out.extend_from_slice(&(total as u32).to_le_bytes());
        self.out.extend_from_slice(&head);
        self.out.extend_from_slice(frame);
        self.out.extend_from_slice(&[0u8; 3][..pad]);
        self.out.extend_from_slice(&EPB_FLAGS.to_le_bytes());
        self.out.extend_from_slice(&4u16.to_le_bytes());
        self.out.extend_from_slice(&flags.to_le_bytes());
        self.out.extend_from_slice(&OPT_END.to_le_bytes());
        self.out.extend_from_slice(&0u16.to_le_bytes());
        self.out.extend_from_slice(&(total as u32).to_le_bytes());
        true
    }

    /// Bytes waiting to be written.
    pub fn pending(&self) -> &[u8] {
        &self.out
    }

    /// Marks `n` bytes of [`Self::pending`] as written.
    pub fn consume(&mut self, n: usize) {
        self.out.drain(..n.min(self.out.len()));
    }
}

impl Default for PcapngWriter {
    fn default() -> Self {
        Self::new()
    }
}

fn push_option(body: &mut Vec<u8>, code: u16, value: &[u8]) {
    body.extend_from_slice(&code.to_le_bytes());
    body.extend_from_slice(&(value.len() as u16).to_le_bytes());
    body.extend_from_slice(value);
    body.extend_from_slice(&[0u8; 3][..(4 - value.len() % 4) % 4]);
}

fn push_block(out: &mut Vec<u8>, ty: u32, body: &[u8]) {
    let total = (12 + body.len()) as u32;
    out.extend_from_slice(&ty.to_le_bytes());
    out.extend_from_slice(&total.to_le_bytes());
    out.extend_from_slice(body);
    out.extend_from_slice(&total.to_le_bytes());
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Walks the blocks: every block's two lengths agree and are multiples of 4.
    fn blocks(bytes: &[u8]) -> Vec<(u32, usize)> {
        let mut out = Vec::new();
        let mut at = 0;
        while at < bytes.len() {
            let ty = u32::from_le_bytes(bytes[at..at + 4].try_into().unwrap());
            let len = u32::from_le_bytes(bytes[at + 4..at + 8].try_into().unwrap()) as usize;
            assert_eq!(len % 4, 0);
            let tail =
                u32::from_le_bytes(bytes[at + len - 4..at + len].try_into().unwrap()) as usize;
            assert_eq!(len, tail);
            out.push((ty, len));
            at += len;
        }
        out
    }

    #[test]
    fn stream_layout() {
        let mut w = PcapngWriter::new();
        assert!(w.frame(
            3,
            "port3",
            Direction::Inbound,
            1_700_000_000_000_000,
            &[1u8; 61]
        ));
        assert!(w.frame(
            3,
            "port3",
            Direction::Outbound,
            1_700_000_000_000_001,
            &[2u8; 60]
        ));
        assert!(w.frame(
            7,
            "port7",
            Direction::Inbound,
            1_700_000_000_000_002,
            &[3u8; 14]
        ));
        let b = blocks(w.pending());
        let types: Vec<u32> = b.iter().map(|x| x.0).collect();
        assert_eq!(types, vec![SHB, IDB, EPB, EPB, IDB, EPB]);
        let n = w.pending().len();
        w.consume(n);
        assert!(w.pending().is_empty());
    }

    #[test]
    fn full_buffer_drops() {
        let mut w = PcapngWriter::new();
        let big = vec![0u8; 60_000];
        let mut ok = 0;
        while w.frame(1, "p", Direction::Inbound, 0, &big) {
            ok += 1;
        }
        assert!(ok > 10);
        assert_eq!(w.dropped, 1);
    }
}
