//! The uml_switch / VDE control request, sans-IO: parse what a client sent, encode what a
//! client sends.
//!
//! Four wire forms reach a control socket (spec §3):
//!
//! | form | layout | size |
//! |---|---|---|
//! | v3, UML | magic, version 3, type, sockaddr_un, 2 pad bytes | 124 |
//! | v3, VDE | magic, version 3, type (low byte: request; `>> 8`: wanted port), sockaddr_un, description | 122 + N |
//! | v1 | magic, type (0), mac\[6\], sockaddr_un | 124 |
//! | v0 | type (0), mac\[6\], sockaddr_un | 120 |
//!
//! Integers are host byte order. Anything else is a [`RequestError`] naming what was wrong;
//! the caller logs it once and closes the connection.

use flowlab_datapath::port::unix_addr::{UnixAddr, SOCKADDR_UN_LEN};

/// `SWITCH_MAGIC`.
pub const SWITCH_MAGIC: u32 = 0xfeed_face;
/// The current protocol version.
pub const SWITCH_VERSION: u32 = 3;
/// Length of the request UML's daemon transport sends.
pub const UML_REQUEST_LEN: usize = 124;
/// Length of a v0 request.
pub const V0_REQUEST_LEN: usize = 120;
/// Offset of the description in a VDE v3 request.
pub const VDE_DESCRIPTION_OFFSET: usize = 12 + SOCKADDR_UN_LEN;
/// Longest request accepted (VDE: 122 + 128-byte description, read in one 256-byte buffer).
pub const MAX_REQUEST_LEN: usize = 256;

/// Request type `REQ_NEW_CONTROL`: a normal port.
pub const REQ_NEW_CONTROL: u8 = 0;
/// Request type 1: `REQ_NEW_PORT0` on a VDE socket, `REQ_NEW_DUMP` on a Netkit uml_switch socket.
pub const REQ_TYPE_1: u8 = 1;

/// Which control socket a request came in on; it decides what request type 1 means.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Listener {
    /// The classic `-unix` socket (uml_switch, Netkit-JH: type 1 = dump port).
    Uml,
    /// The `--vde DIR` socket `DIR/ctl` (VDE: type 1 = port 0).
    Vde,
}

/// Protocol version of a parsed request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Version {
    /// No magic: the client already knows the data socket; no reply.
    V0,
    /// Magic, then type: reply with the data address.
    V1,
    /// Magic, version 3: reply with the data address.
    V3,
}

/// What the client asks for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RequestKind {
    /// A normal port (`REQ_NEW_CONTROL`), optionally with a wanted port number (VDE).
    Port {
        /// Wanted port number (`type >> 8`), 0 = any.
        wanted: u32,
    },
    /// VDE's management port 0 (`REQ_NEW_PORT0`); flowlab-hub gives it a normal port.
    Port0,
    /// A Netkit dump port (`REQ_NEW_DUMP`): receives a copy of the traffic, sends nothing.
    Dump,
}

/// A parsed control request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UmlRequest {
    /// Wire version.
    pub version: Version,
    /// What is asked for.
    pub kind: RequestKind,
    /// The client's data socket address (opaque).
    pub addr: UnixAddr,
    /// VDE description (printable text after the sockaddr), empty for UML.
    pub description: String,
}

/// Why a request was refused.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum RequestError {
    /// Fewer bytes than the shortest request.
    #[error("short request: {0} bytes")]
    Short(usize),
    /// Protocol version 2, withdrawn in 2002.
    #[error("version 2 is not supported")]
    Version2,
    /// A version this switch does not know.
    #[error("request for a version {0} port, which this switch doesn't support")]
    UnknownVersion(u32),
    /// A request type that is neither 0 nor 1.
    #[error("bad request type: {0}")]
    BadType(u32),
    /// The sockaddr's family is not AF_UNIX.
    #[error("bad address family {0} in request")]
    BadFamily(u16),
    /// An unnamed client address (nothing to send to).
    #[error("request carries an empty data address")]
    EmptyAddress,
}

impl UmlRequest {
    /// Parses the bytes of one request as received on `listener`.
    ///
    /// `bytes` is everything the client sent in its first burst. For v3, bytes past the
    /// sockaddr are the VDE description (UML's two padding zeros give an empty one). For v0
    /// and v1, bytes past the fixed length are ignored.
    pub fn parse(bytes: &[u8], listener: Listener) -> Result<UmlRequest, RequestError> {
        if bytes.len() < 12 {
            return Err(RequestError::Short(bytes.len()));
        }
        let word = |i: usize| u32::from_ne_bytes(bytes[i..i + 4].try_into().expect("4 bytes"));
        if word(0) != SWITCH_MAGIC {
            // v0: type(4) mac(6) sockaddr_un(110)
            if bytes.len() < V0_REQUEST_LEN {
                return Err(RequestError::Short(bytes.len()));
            }
            let ty = word(0);
            if ty != 0 {
                return Err(RequestError::BadType(ty));
            }
            let addr = addr_at(bytes, 10)?;
            return Ok(UmlRequest {
                version: Version::V0,
                kind: RequestKind::Port { wanted: 0 },
                addr,
                description: String::new(),
            });
        }
        match word(4) {
            3 => {
                if bytes.len() < 12 + SOCKADDR_UN_LEN {
                    return Err(RequestError::Short(bytes.len()));
                }
                let ty = word(8);
                let request = (ty & 0xff) as u8;
                let wanted = ty >> 8;
                let kind = match (request, listener) {
                    (REQ_NEW_CONTROL, _) => RequestKind::Port { wanted },
                    (REQ_TYPE_1, Listener::Vde) => RequestKind::Port0,
                    (REQ_TYPE_1, Listener::Uml) if wanted == 0 => RequestKind::Dump,
                    _ => return Err(RequestError::BadType(ty)),
                };
                let addr = addr_at(bytes, 12)?;
                let description = description(&bytes[VDE_DESCRIPTION_OFFSET..]);
                Ok(UmlRequest {
                    version: Version::V3,
                    kind,
                    addr,
                    description,
                })
            }
            2 => Err(RequestError::Version2),
            v if v > 3 => Err(RequestError::UnknownVersion(v)),
            _ => {
                // v1: magic(4) type(4) mac(6) sockaddr_un(110); the "version" word is v1's type.
                if bytes.len() < 14 + SOCKADDR_UN_LEN {
                    return Err(RequestError::Short(bytes.len()));
                }
                let ty = word(4);
                if ty != 0 {
                    return Err(RequestError::BadType(ty));
                }
                let addr = addr_at(bytes, 14)?;
                Ok(UmlRequest {
                    version: Version::V1,
                    kind: RequestKind::Port { wanted: 0 },
                    addr,
                    description: String::new(),
                })
            }
        }
    }

    /// The 124 bytes UML's daemon transport sends for a v3 `REQ_NEW_CONTROL`.
    pub fn encode_uml(addr: &UnixAddr) -> [u8; UML_REQUEST_LEN] {
        Self::encode_uml_typed(addr, REQ_NEW_CONTROL as u32)
    }

    /// A 124-byte v3 request with any type word (type 1 asks a Netkit switch for a dump port).
    pub fn encode_uml_typed(addr: &UnixAddr, ty: u32) -> [u8; UML_REQUEST_LEN] {
        let mut out = [0u8; UML_REQUEST_LEN];
        out[0..4].copy_from_slice(&SWITCH_MAGIC.to_ne_bytes());
        out[4..8].copy_from_slice(&SWITCH_VERSION.to_ne_bytes());
        out[8..12].copy_from_slice(&ty.to_ne_bytes());
        out[12..12 + SOCKADDR_UN_LEN].copy_from_slice(&addr.to_wire());
        out
    }

    /// A packed VDE v3 request: type word `request | wanted_port << 8`, then the description.
    pub fn encode_vde(
        addr: &UnixAddr,
        request: u8,
        wanted_port: u32,
        description: &str,
    ) -> Vec<u8> {
        let mut out = Vec::with_capacity(VDE_DESCRIPTION_OFFSET + description.len());
        out.extend_from_slice(&SWITCH_MAGIC.to_ne_bytes());
        out.extend_from_slice(&SWITCH_VERSION.to_ne_bytes());
        out.extend_from_slice(&(u32::from(request) | (wanted_port << 8)).to_ne_bytes());
        out.extend_from_slice(&addr.to_wire());
        out.extend_from_slice(description.as_bytes());
        out
    }
}

fn addr_at(bytes: &[u8], at: usize) -> Result<UnixAddr, RequestError> {
    let raw: &[u8; SOCKADDR_UN_LEN] = bytes[at..at + SOCKADDR_UN_LEN]
        .try_into()
        .expect("length checked");
    let addr = UnixAddr::from_wire(raw)
        .ok_or_else(|| RequestError::BadFamily(u16::from_ne_bytes([raw[0], raw[1]])))?;
    if addr.is_empty() || (addr.path().is_none() && !addr.is_abstract()) {
        return Err(RequestError::EmptyAddress);
    }
    Ok(addr)
}

/// The printable part of a VDE description: NULs and control bytes dropped, at most 128 bytes.
fn description(bytes: &[u8]) -> String {
    let text: String = String::from_utf8_lossy(&bytes[..bytes.len().min(128)])
        .chars()
        .filter(|c| !c.is_control())
        .collect();
    text.trim().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    fn uml_addr() -> UnixAddr {
        let mut name = [0u8; 107];
        name[3] = 0x11; // pid bytes
        name[50] = 0xaa; // uninitialised heap garbage
        UnixAddr::abstract_full(&name)
    }

    #[test]
    fn uml_v3_request() {
        let a = uml_addr();
        let bytes = UmlRequest::encode_uml(&a);
        assert_eq!(&bytes[..4], &[0xce, 0xfa, 0xed, 0xfe]);
        let r = UmlRequest::parse(&bytes, Listener::Uml).unwrap();
        assert_eq!(r.version, Version::V3);
        assert_eq!(r.kind, RequestKind::Port { wanted: 0 });
        assert_eq!(r.addr, a);
        assert_eq!(r.description, "");
    }

    #[test]
    fn vde_request_with_port_and_description() {
        let a = UnixAddr::pathname(Path::new("/tmp/vde.ctl/.01234-00000")).unwrap();
        let bytes = UmlRequest::encode_vde(&a, REQ_NEW_CONTROL, 5, "QEMU user=x PID=1");
        let r = UmlRequest::parse(&bytes, Listener::Vde).unwrap();
        assert_eq!(r.kind, RequestKind::Port { wanted: 5 });
        assert_eq!(r.addr, a);
        assert_eq!(r.description, "QEMU user=x PID=1");
    }

    #[test]
    fn type_one_depends_on_listener() {
        let a = uml_addr();
        let bytes = UmlRequest::encode_uml_typed(&a, 1);
        assert_eq!(
            UmlRequest::parse(&bytes, Listener::Uml).unwrap().kind,
            RequestKind::Dump
        );
        assert_eq!(
            UmlRequest::parse(&bytes, Listener::Vde).unwrap().kind,
            RequestKind::Port0
        );
        let bytes = UmlRequest::encode_uml_typed(&a, 2);
        assert_eq!(
            UmlRequest::parse(&bytes, Listener::Uml),
            Err(RequestError::BadType(2))
        );
    }

    #[test]
    fn v1_and_v0() {
        let a = uml_addr();
        let mut v1 = vec![0u8; 124];
        v1[..4].copy_from_slice(&SWITCH_MAGIC.to_ne_bytes());
        v1[14..124].copy_from_slice(&a.to_wire());
        let r = UmlRequest::parse(&v1, Listener::Uml).unwrap();
        assert_eq!((r.version, r.addr), (Version::V1, a));
        let mut v0 = vec![0u8; 120];
        v0[10..120].copy_from_slice(&a.to_wire());
        let r = UmlRequest::parse(&v0, Listener::Uml).unwrap();
        assert_eq!((r.version, r.addr), (Version::V0, a));
    }

    #[test]
    fn rejects_bad_versions_and_short() {
        let a = uml_addr();
        let mut b = UmlRequest::encode_uml(&a);
        b[4] = 2;
        assert_eq!(
            UmlRequest::parse(&b, Listener::Uml),
            Err(RequestError::Version2)
        );
        b[4] = 9;
        assert_eq!(
            UmlRequest::parse(&b, Listener::Uml),
            Err(RequestError::UnknownVersion(9))
        );
        assert_eq!(
            UmlRequest::parse(&b[..5], Listener::Uml),
            Err(RequestError::Short(5))
        );
        let b = UmlRequest::encode_uml(&a);
        assert_eq!(
            UmlRequest::parse(&b[..100], Listener::Uml),
            Err(RequestError::Short(100))
        );
        let mut b = b;
        b[12] = 2; // AF_INET
        assert_eq!(
            UmlRequest::parse(&b, Listener::Uml),
            Err(RequestError::BadFamily(2))
        );
    }

    proptest::proptest! {
        #[test]
        fn parse_never_panics(bytes in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..300)) {
            let _ = UmlRequest::parse(&bytes, Listener::Uml);
            let _ = UmlRequest::parse(&bytes, Listener::Vde);
        }

        #[test]
        fn magic_prefixed_garbage_never_panics(tail in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..260), v in 0u32..6) {
            let mut b = SWITCH_MAGIC.to_ne_bytes().to_vec();
            b.extend_from_slice(&v.to_ne_bytes());
            b.extend_from_slice(&tail);
            let _ = UmlRequest::parse(&b, Listener::Uml);
            let _ = UmlRequest::parse(&b, Listener::Vde);
        }
    }
}
