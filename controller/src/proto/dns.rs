//! DNS messages (RFC 1035 §4): the header, names with compression pointers, and the
//! resource records of the answer section.
//!
//! ```text
//!  0    2       4         6         8         10        12
//! | id | flags | qdcount | ancount | nscount | arcount | questions ... answers ... |
//! question: name | type u16 | class u16
//! record:   name | type u16 | class u16 | ttl u32 | rdlength u16 | rdata
//! ```
//!
//! # Names and why reading one always ends
//!
//! A name is a run of labels (a length byte below 64, then that many bytes) ending in
//! the empty label, or in a compression pointer (two bytes, top bits `11`, the other 14
//! the offset of the rest of the name in the message). Pointers can be made to loop, so
//! [`DnsPacket::name`] reads with one rule that makes loops impossible: a pointer must
//! point strictly before the place where the current run of labels began (the name's
//! start, or the target of the previous pointer). The starts of the runs then decrease
//! at every jump and cannot go below the header, so the walk ends; reading labels
//! within a run only moves forward through a bounded buffer. On top of that, jumps are
//! capped at [`MAX_POINTERS`] and the name at [`MAX_NAME_LEN`] bytes (RFC 1035 §2.3.4).
//! Real encoders only ever point backwards to a name already written, so nothing real
//! is refused.
//!
//! Names come out as text, lower-case, labels joined with dots and no trailing dot. A
//! label holding anything but letters, digits, `-` and `_` (a dot, a space, a control
//! byte) makes the name `Unsupported`: such a name cannot be written as text without
//! ambiguity, and the controller has no use for it.

use std::net::Ipv4Addr;

use super::{be16, be32, number_enum, Error, Result};

mod field {
    use std::ops::Range;

    pub const ID: Range<usize> = 0..2;
    pub const FLAGS: Range<usize> = 2..4;
    pub const QDCOUNT: Range<usize> = 4..6;
    pub const ANCOUNT: Range<usize> = 6..8;
    pub const NSCOUNT: Range<usize> = 8..10;
    pub const ARCOUNT: Range<usize> = 10..12;

    /// In a record, after its name.
    pub const RR_TYPE: Range<usize> = 0..2;
    pub const RR_CLASS: Range<usize> = 2..4;
    pub const RR_TTL: Range<usize> = 4..8;
    pub const RR_RDLENGTH: Range<usize> = 8..10;
    pub const RR_RDATA: usize = 10;

    /// In a question, after its name: type and class.
    pub const QUESTION_TAIL: usize = 4;
}

/// Length of the header.
pub const HEADER_LEN: usize = field::ARCOUNT.end;

/// The server's UDP port.
pub const PORT: u16 = 53;

/// Longest name in wire form, length bytes and the root label included.
pub const MAX_NAME_LEN: usize = 255;

/// Longest name as text (`MAX_NAME_LEN` less the first length byte and the root).
pub const MAX_TEXT_LEN: usize = MAX_NAME_LEN - 2;

/// Compression pointers followed in one name at most.
pub const MAX_POINTERS: usize = 127;

/// Class IN.
pub const CLASS_IN: u16 = 1;

/// Header flag bits.
pub mod flags {
    /// A response (else a query).
    pub const QR: u16 = 0x8000;
    /// Authoritative answer.
    pub const AA: u16 = 0x0400;
    /// Truncated.
    pub const TC: u16 = 0x0200;
    /// Recursion desired.
    pub const RD: u16 = 0x0100;
    /// Recursion available.
    pub const RA: u16 = 0x0080;
    /// The response code (0: no error).
    pub const RCODE: u16 = 0x000f;
    /// Where the 4-bit opcode starts.
    pub const OPCODE_SHIFT: u16 = 11;
}

number_enum! {
    /// A record type.
    pub enum RecordType(u16) {
        /// IPv4 address.
        A = 1,
        /// Name server.
        Ns = 2,
        /// Canonical name (an alias).
        Cname = 5,
        /// Start of authority.
        Soa = 6,
        /// Domain name pointer.
        Ptr = 12,
        /// Mail exchange.
        Mx = 15,
        /// Text.
        Txt = 16,
        /// IPv6 address.
        Aaaa = 28,
        /// Service.
        Srv = 33,
        /// EDNS(0) option pseudo-record.
        Opt = 41,
    }
}

/// A name read from a message: lower-case text, labels joined with dots, no trailing
/// dot (the root is the empty name).
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct DnsName {
    text: [u8; MAX_TEXT_LEN],
    len: usize,
}

impl std::fmt::Debug for DnsName {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "DnsName({:?})", self.as_str())
    }
}

impl DnsName {
    fn root() -> DnsName {
        DnsName {
            text: [0; MAX_TEXT_LEN],
            len: 0,
        }
    }

    /// The name as text.
    pub fn as_str(&self) -> &str {
        // Only ASCII letters, digits, '-', '_' and '.' are ever stored.
        std::str::from_utf8(&self.text[..self.len]).unwrap_or("")
    }

    /// Whether this is the root (the empty name).
    pub fn is_root(&self) -> bool {
        self.len == 0
    }

    fn push_label(&mut self, label: &[u8]) -> Result<()> {
        if !label
            .iter()
            .all(|b| b.is_ascii_alphanumeric() || *b == b'-' || *b == b'_')
        {
            return Err(Error::Unsupported);
        }
        let dot = usize::from(self.len > 0);
        let end = self.len + dot + label.len();
        let out = self.text.get_mut(self.len..end).ok_or(Error::Malformed)?;
        if dot == 1 {
            out[0] = b'.';
        }
        for (o, b) in out[dot..].iter_mut().zip(label) {
            *o = b.to_ascii_lowercase();
        }
        self.len = end;
        Ok(())
    }
}

/// Reads the name at `start` of `msg`; returns it and the offset just past it where it
/// sits (past its first pointer, if it has one). See the module documentation.
fn read_name(msg: &[u8], start: usize) -> Result<(DnsName, usize)> {
    let mut name = DnsName::root();
    let (mut pos, mut run_start) = (start, start);
    let mut after = None;
    let (mut wire_len, mut jumps) = (0usize, 0usize);
    loop {
        let len = *msg.get(pos).ok_or(Error::Truncated)?;
        match len & 0xc0 {
            0x00 if len == 0 => return Ok((name, after.unwrap_or(pos + 1))),
            0x00 => {
                let n = usize::from(len);
                let label = msg.get(pos + 1..pos + 1 + n).ok_or(Error::Truncated)?;
                wire_len += 1 + n;
                if wire_len + 1 > MAX_NAME_LEN {
                    return Err(Error::Malformed);
                }
                name.push_label(label)?;
                pos += 1 + n;
            }
            0xc0 => {
                let lo = *msg.get(pos + 1).ok_or(Error::Truncated)?;
                let target = usize::from(u16::from_be_bytes([len & 0x3f, lo]));
                after.get_or_insert(pos + 2);
                jumps += 1;
                if jumps > MAX_POINTERS || target >= run_start || target < HEADER_LEN {
                    return Err(Error::Malformed);
                }
                (pos, run_start) = (target, target);
            }
            // 0x40 and 0x80: label types RFC 6891 retired or never defined.
            _ => return Err(Error::Malformed),
        }
    }
}

/// The offset just past the name at `at`, without reading it (labels are skipped, a
/// pointer ends it).
fn skip_name(msg: &[u8], mut at: usize) -> Result<usize> {
    loop {
        let len = *msg.get(at).ok_or(Error::Truncated)?;
        match len & 0xc0 {
            0x00 if len == 0 => return Ok(at + 1),
            0x00 => at += 1 + usize::from(len),
            0xc0 if at + 2 <= msg.len() => return Ok(at + 2),
            0xc0 => return Err(Error::Truncated),
            _ => return Err(Error::Malformed),
        }
    }
}

/// One resource record, read in place.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DnsRecord<'a> {
    /// Where its owner name starts (read it with [`DnsPacket::name`]).
    pub name_at: usize,
    /// Its type.
    pub rtype: RecordType,
    /// Its class.
    pub class: u16,
    /// Seconds it may be cached.
    pub ttl: u32,
    /// Its data.
    pub rdata: &'a [u8],
    /// Where its data starts (names in the data are read with [`DnsPacket::name`]).
    pub rdata_at: usize,
}

impl DnsRecord<'_> {
    /// The address of an A record of class IN with 4 bytes of data.
    pub fn ipv4(&self) -> Option<Ipv4Addr> {
        match (self.rtype, self.class, self.rdata) {
            (RecordType::A, CLASS_IN, &[a, b, c, d]) => Some(Ipv4Addr::new(a, b, c, d)),
            _ => None,
        }
    }
}

/// Iterator over the answer section: skips the questions, then yields up to `ancount`
/// records; one error (a question or record running past the message) ends it.
#[derive(Debug, Clone)]
pub struct DnsAnswers<'a> {
    msg: &'a [u8],
    at: usize,
    questions: u16,
    answers: u16,
}

impl<'a> DnsAnswers<'a> {
    fn step(&mut self) -> Result<Option<DnsRecord<'a>>> {
        while self.questions > 0 {
            let end = skip_name(self.msg, self.at)? + field::QUESTION_TAIL;
            if end > self.msg.len() {
                return Err(Error::Truncated);
            }
            self.at = end;
            self.questions -= 1;
        }
        if self.answers == 0 {
            return Ok(None);
        }
        let name_at = self.at;
        let fixed = skip_name(self.msg, name_at)?;
        let rr = self
            .msg
            .get(fixed..fixed + field::RR_RDATA)
            .ok_or(Error::Truncated)?;
        let rdlength = usize::from(be16(rr, field::RR_RDLENGTH.start));
        let rdata_at = fixed + field::RR_RDATA;
        let rdata = self
            .msg
            .get(rdata_at..rdata_at + rdlength)
            .ok_or(Error::Truncated)?;
        self.at = rdata_at + rdlength;
        self.answers -= 1;
        Ok(Some(DnsRecord {
            name_at,
            rtype: RecordType::from(be16(rr, field::RR_TYPE.start)),
            class: be16(rr, field::RR_CLASS.start),
            ttl: be32(rr, field::RR_TTL.start),
            rdata,
            rdata_at,
        }))
    }
}

impl<'a> Iterator for DnsAnswers<'a> {
    type Item = Result<DnsRecord<'a>>;

    fn next(&mut self) -> Option<Self::Item> {
        match self.step() {
            Ok(r) => r.map(Ok),
            Err(e) => {
                (self.questions, self.answers) = (0, 0);
                Some(Err(e))
            }
        }
    }
}

impl core::iter::FusedIterator for DnsAnswers<'_> {}

/// A view of a DNS message (the UDP payload).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DnsPacket<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> DnsPacket<T> {
    /// Wraps a buffer without checking it.
    pub const fn new_unchecked(buffer: T) -> Self {
        DnsPacket { buffer }
    }

    /// Wraps a buffer after [`check_len`](Self::check_len).
    pub fn new_checked(buffer: T) -> Result<Self> {
        let p = Self::new_unchecked(buffer);
        p.check_len()?;
        Ok(p)
    }

    /// Ok if the buffer holds the header (the sections are checked as they are read).
    pub fn check_len(&self) -> Result<()> {
        if self.buffer.as_ref().len() < HEADER_LEN {
            Err(Error::Truncated)
        } else {
            Ok(())
        }
    }

    /// The wrapped buffer.
    pub fn into_inner(self) -> T {
        self.buffer
    }

    fn b(&self) -> &[u8] {
        self.buffer.as_ref()
    }

    /// The message id.
    pub fn id(&self) -> u16 {
        be16(self.b(), field::ID.start)
    }

    /// The flags (see [`flags`]).
    pub fn flags(&self) -> u16 {
        be16(self.b(), field::FLAGS.start)
    }

    /// Whether this is a response.
    pub fn is_response(&self) -> bool {
        self.flags() & flags::QR != 0
    }

    /// The opcode (0: a standard query).
    pub fn opcode(&self) -> u8 {
        ((self.flags() >> flags::OPCODE_SHIFT) & 0xf) as u8
    }

    /// Whether the message was truncated.
    pub fn is_truncated(&self) -> bool {
        self.flags() & flags::TC != 0
    }

    /// The response code (0: no error).
    pub fn rcode(&self) -> u8 {
        (self.flags() & flags::RCODE) as u8
    }

    /// Questions announced.
    pub fn question_count(&self) -> u16 {
        be16(self.b(), field::QDCOUNT.start)
    }

    /// Answers announced.
    pub fn answer_count(&self) -> u16 {
        be16(self.b(), field::ANCOUNT.start)
    }

    /// Authority records announced.
    pub fn authority_count(&self) -> u16 {
        be16(self.b(), field::NSCOUNT.start)
    }

    /// Additional records announced.
    pub fn additional_count(&self) -> u16 {
        be16(self.b(), field::ARCOUNT.start)
    }

    /// The answer section's records.
    pub fn answers(&self) -> DnsAnswers<'_> {
        DnsAnswers {
            msg: self.b(),
            at: HEADER_LEN,
            questions: self.question_count(),
            answers: self.answer_count(),
        }
    }

    /// The name at offset `at` (following compression pointers) and the offset just
    /// past it where it sits.
    pub fn name(&self, at: usize) -> Result<(DnsName, usize)> {
        read_name(self.b(), at)
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> DnsPacket<T> {
    fn set(&mut self, f: std::ops::Range<usize>, v: u16) {
        self.buffer.as_mut()[f].copy_from_slice(&v.to_be_bytes());
    }

    /// Sets the message id.
    pub fn set_id(&mut self, v: u16) {
        self.set(field::ID, v);
    }

    /// Sets the flags.
    pub fn set_flags(&mut self, v: u16) {
        self.set(field::FLAGS, v);
    }

    /// Sets the section counts: questions, answers, authority, additional.
    pub fn set_counts(&mut self, qd: u16, an: u16, ns: u16, ar: u16) {
        self.set(field::QDCOUNT, qd);
        self.set(field::ANCOUNT, an);
        self.set(field::NSCOUNT, ns);
        self.set(field::ARCOUNT, ar);
    }

    /// The bytes after the header, mutable.
    pub fn payload_mut(&mut self) -> &mut [u8] {
        &mut self.buffer.as_mut()[HEADER_LEN..]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// A response to "www.lab.example A": a CNAME to "web.lab.example" (its suffix
    /// compressed to the question's), then "web.lab.example A 203.0.113.7" (owner
    /// compressed to the CNAME's data).
    fn response() -> Vec<u8> {
        let mut b = vec![0xab, 0xcd, 0x81, 0x80, 0, 1, 0, 2, 0, 0, 0, 0];
        // 12: question
        b.extend_from_slice(b"\x03www\x03lab\x07example\x00");
        b.extend_from_slice(&[0, 1, 0, 1]);
        // 33: answer 1, owner -> 12
        b.extend_from_slice(&[0xc0, 12, 0, 5, 0, 1, 0, 0, 0x0e, 0x10, 0, 6]);
        // 45: CNAME data "web" + pointer to "lab.example" at 16
        b.extend_from_slice(&[3, b'w', b'e', b'b', 0xc0, 16]);
        // 51: answer 2, owner -> 45
        b.extend_from_slice(&[0xc0, 45, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 203, 0, 113, 7]);
        b
    }

    #[test]
    fn reads_the_header_and_follows_compression() {
        let b = response();
        let p = DnsPacket::new_checked(&b[..]).unwrap();
        assert_eq!(p.id(), 0xabcd);
        assert!(p.is_response() && !p.is_truncated());
        assert_eq!((p.opcode(), p.rcode()), (0, 0));
        assert_eq!((p.question_count(), p.answer_count()), (1, 2));
        let (q, after) = p.name(12).unwrap();
        assert_eq!((q.as_str(), after), ("www.lab.example", 29));
        let rr: Vec<DnsRecord<'_>> = p.answers().map(|r| r.unwrap()).collect();
        assert_eq!(rr.len(), 2);
        assert_eq!(rr[0].rtype, RecordType::Cname);
        assert_eq!(rr[0].ttl, 3600);
        assert_eq!(p.name(rr[0].name_at).unwrap().0.as_str(), "www.lab.example");
        let (target, after) = p.name(rr[0].rdata_at).unwrap();
        assert_eq!((target.as_str(), after), ("web.lab.example", 51));
        assert_eq!(rr[0].ipv4(), None);
        assert_eq!(p.name(rr[1].name_at).unwrap().0.as_str(), "web.lab.example");
        assert_eq!(rr[1].ipv4(), Some(Ipv4Addr::new(203, 0, 113, 7)));
    }

    #[test]
    fn names_are_lower_cased_and_odd_labels_refused() {
        let mut b = vec![0; HEADER_LEN];
        b.extend_from_slice(b"\x02Ab\x00\x02a.\x00\x00");
        let p = DnsPacket::new_checked(&b[..]).unwrap();
        assert_eq!(p.name(12).unwrap().0.as_str(), "ab");
        assert_eq!(p.name(16).unwrap_err(), Error::Unsupported);
        let (root, after) = p.name(20).unwrap();
        assert!(root.is_root());
        assert_eq!(after, 21);
        assert_eq!(p.name(21).unwrap_err(), Error::Truncated);
    }

    #[test]
    fn pointer_loops_and_forward_pointers_are_refused() {
        let mut b = vec![0; HEADER_LEN];
        // 12: a pointer to itself; 14: "a" then a pointer back to 14 (a loop through a
        // label); 18: a pointer forward to 20; 20: "x" root.
        b.extend_from_slice(&[0xc0, 12, 1, b'a', 0xc0, 14, 0xc0, 20, 1, b'x', 0]);
        // 23: a pointer into the header; 25: a 0x40 label type.
        b.extend_from_slice(&[0xc0, 3, 0x41, 0]);
        let p = DnsPacket::new_checked(&b[..]).unwrap();
        for at in [12, 14, 18, 23, 25] {
            assert_eq!(p.name(at).unwrap_err(), Error::Malformed, "at {at}");
        }
        assert_eq!(p.name(20).unwrap().0.as_str(), "x");
    }

    #[test]
    fn a_pointer_back_into_a_label_run_that_reaches_it_is_refused() {
        // 12: "x" root. 15: a label of 9 bytes (16..25), then at 25 a pointer to 15:
        // each jump goes backwards, yet following it would read the same run forever.
        let mut b = vec![0; HEADER_LEN];
        b.extend_from_slice(&[1, b'x', 0, 9]);
        b.extend_from_slice(b"abcdefghi");
        b.extend_from_slice(&[0xc0, 15, 0xc0, 25]);
        let p = DnsPacket::new_checked(&b[..]).unwrap();
        assert_eq!(p.name(15).unwrap_err(), Error::Malformed);
        assert_eq!(p.name(27).unwrap_err(), Error::Malformed);
    }

    #[test]
    fn a_chain_of_backward_pointers_is_followed_up_to_the_length_limit() {
        // Name 0 at 12 is "a"; name i (at 15 + 4(i-1)) is "a" then a pointer to name i-1.
        let at = |i: usize| if i == 0 { 12 } else { 15 + 4 * (i - 1) };
        let mut b = vec![0; HEADER_LEN];
        b.extend_from_slice(&[1, b'a', 0]);
        for i in 1..=130 {
            let prev = at(i - 1);
            assert_eq!(b.len(), at(i));
            b.extend_from_slice(&[1, b'a', 0xc0 | (prev >> 8) as u8, prev as u8]);
        }
        let p = DnsPacket::new_checked(&b[..]).unwrap();
        assert_eq!(p.name(at(1)).unwrap().0.as_str(), "a.a");
        assert_eq!(p.name(at(1)).unwrap().1, at(1) + 4);
        // 127 labels make a 255-byte name, the longest there is; 128 are too many.
        let (longest, _) = p.name(at(126)).unwrap();
        assert_eq!(longest.as_str().len(), MAX_TEXT_LEN);
        assert_eq!(longest.as_str().matches('a').count(), 127);
        assert_eq!(p.name(at(127)).unwrap_err(), Error::Malformed);
    }

    #[test]
    fn every_truncation_is_an_error_or_fewer_answers() {
        let b = response();
        for cut in 0..b.len() {
            let Ok(p) = DnsPacket::new_checked(&b[..cut]) else {
                assert!(cut < HEADER_LEN);
                continue;
            };
            let got: Vec<_> = p.answers().collect();
            // The announced counts are not met: the last item is an error.
            assert!(matches!(got.last(), Some(Err(_))), "cut {cut}: {got:?}");
            assert!(got.len() <= 2);
        }
    }

    proptest! {
        #[test]
        fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..400)) {
            if let Ok(p) = DnsPacket::new_checked(&bytes[..]) {
                let _ = (p.id(), p.flags(), p.opcode(), p.rcode(), p.authority_count());
                let mut n = 0;
                for r in p.answers() {
                    n += 1;
                    let Ok(r) = r else { break };
                    let _ = (p.name(r.name_at), p.name(r.rdata_at), r.ipv4());
                }
                prop_assert!(n <= bytes.len());
                for at in 0..bytes.len() {
                    if let Ok((name, after)) = p.name(at) {
                        prop_assert!(name.as_str().len() <= MAX_TEXT_LEN);
                        prop_assert!(after > at && after <= bytes.len());
                    }
                }
            }
        }

        #[test]
        fn mutated_responses_never_panic(
            edits in proptest::collection::vec((0..67usize, any::<u8>()), 1..6)
        ) {
            let mut b = response();
            for (at, v) in edits {
                b[at] = v;
            }
            let p = DnsPacket::new_checked(&b[..]).unwrap();
            for r in p.answers().take(70_000) {
                let Ok(r) = r else { break };
                let _ = (p.name(r.name_at), p.name(r.rdata_at), r.ipv4());
            }
        }
    }
}
