//! Receive what a set of endpoints get, then check who got what.

use std::fmt::Write;
use std::io;
use std::os::fd::RawFd;
use std::time::{Duration, Instant};

use flowlab_hub::client::UmlClient;

use crate::frames::describe;

/// How long [`gather`] waits for the frames it expects.
pub const DEADLINE: Duration = Duration::from_secs(5);
/// The default quiet time: after the expected frames arrived, [`gather`] keeps listening
/// until nothing has come for this long (to catch frames that must not arrive).
pub const QUIET: Duration = Duration::from_millis(200);

/// Something frames arrive at: a protocol client, a `vde_plug` process.
pub trait Endpoint {
    /// A descriptor that polls readable when [`Endpoint::recv_now`] may return a frame.
    fn poll_fd(&self) -> RawFd;
    /// One frame if one is there, without waiting.
    fn recv_now(&mut self) -> io::Result<Option<Vec<u8>>>;
}

impl Endpoint for UmlClient {
    fn poll_fd(&self) -> RawFd {
        self.data_fd()
    }
    fn recv_now(&mut self) -> io::Result<Option<Vec<u8>>> {
        self.recv(Duration::ZERO)
    }
}

/// What each endpoint received, in arrival order (index = position in the gathered set).
#[derive(Debug, Default)]
pub struct Delivery {
    /// Frames per endpoint.
    pub got: Vec<Vec<Vec<u8>>>,
}

/// Receives on all `clients` until `expect` frames arrived in total (or [`DEADLINE`]
/// passed), then until `quiet` passes with nothing more.
pub fn gather(clients: &mut [UmlClient], expect: usize, quiet: Duration) -> Delivery {
    let mut eps: Vec<&mut dyn Endpoint> =
        clients.iter_mut().map(|c| c as &mut dyn Endpoint).collect();
    gather_from(&mut eps, expect, quiet)
}

/// [`gather`] over any endpoints.
pub fn gather_from(eps: &mut [&mut dyn Endpoint], expect: usize, quiet: Duration) -> Delivery {
    let mut got: Vec<Vec<Vec<u8>>> = vec![Vec::new(); eps.len()];
    let mut total = 0usize;
    let deadline = Instant::now() + DEADLINE;
    let mut last = Instant::now();
    loop {
        let now = Instant::now();
        let wait_until = if total < expect {
            deadline
        } else {
            last + quiet
        };
        if now >= wait_until {
            break;
        }
        let mut fds: Vec<libc::pollfd> = eps
            .iter()
            .map(|e| libc::pollfd {
                fd: e.poll_fd(),
                events: libc::POLLIN,
                revents: 0,
            })
            .collect();
        let ms = (wait_until - now).as_millis().clamp(1, i32::MAX as u128) as libc::c_int;
        // SAFETY: fds is a valid array of pollfd.
        let r = unsafe { libc::poll(fds.as_mut_ptr(), fds.len() as libc::nfds_t, ms) };
        if r < 0 {
            let e = io::Error::last_os_error();
            assert_eq!(e.kind(), io::ErrorKind::Interrupted, "poll: {e}");
            continue;
        }
        for (i, p) in fds.iter().enumerate() {
            if p.revents == 0 {
                continue;
            }
            loop {
                match eps[i].recv_now() {
                    Ok(Some(f)) => {
                        got[i].push(f);
                        total += 1;
                        last = Instant::now();
                    }
                    Ok(None) => break,
                    Err(e) => panic!("receiving on endpoint {i}: {e}"),
                }
            }
        }
    }
    Delivery { got }
}

impl Delivery {
    /// Frames received in total.
    pub fn total(&self) -> usize {
        self.got.iter().map(Vec::len).sum()
    }

    /// The endpoints that received `frame` (exactly these bytes), once per copy.
    pub fn who_got(&self, frame: &[u8]) -> Vec<usize> {
        let mut out = Vec::new();
        for (i, fs) in self.got.iter().enumerate() {
            for f in fs {
                if f.as_slice() == frame {
                    out.push(i);
                }
            }
        }
        out
    }

    /// Checks that endpoint `i` got exactly the frames whose receiver lists contain `i`
    /// (as a multiset: order across senders is not checked), nothing missing, nothing extra.
    pub fn check(&self, expected: &[(&[u8], &[usize])]) -> Result<(), String> {
        let mut report = String::new();
        for (i, got) in self.got.iter().enumerate() {
            let mut want: Vec<&[u8]> = expected
                .iter()
                .filter(|(_, to)| to.contains(&i))
                .map(|(f, _)| *f)
                .collect();
            let mut extra = Vec::new();
            for f in got {
                if let Some(pos) = want.iter().position(|w| *w == f.as_slice()) {
                    want.swap_remove(pos);
                } else {
                    extra.push(f);
                }
            }
            for f in &want {
                let _ = writeln!(report, "  endpoint {i} missed {}", describe(f));
            }
            for f in &extra {
                let why = if expected.iter().any(|(w, _)| *w == f.as_slice()) {
                    "a copy it should not have got of"
                } else {
                    "an unexpected frame"
                };
                let _ = writeln!(report, "  endpoint {i} got {why} {}", describe(f));
            }
        }
        for (f, to) in expected {
            if let Some(bad) = to.iter().find(|&&i| i >= self.got.len()) {
                let _ = writeln!(
                    report,
                    "  expectation names endpoint {bad} for {}",
                    describe(f)
                );
            }
        }
        if report.is_empty() {
            Ok(())
        } else {
            Err(report)
        }
    }

    /// [`Delivery::check`], panicking with `what` and the report.
    #[track_caller]
    pub fn assert(&self, what: &str, expected: &[(&[u8], &[usize])]) {
        if let Err(r) = self.check(expected) {
            panic!("{what}: delivery differs from the expectation:\n{r}");
        }
    }

    /// Asserts nothing at all arrived.
    #[track_caller]
    pub fn assert_nothing(&self, what: &str) {
        self.assert(what, &[]);
    }
}

/// All indices in `0..n` except `but`.
pub fn all_but(n: usize, but: usize) -> Vec<usize> {
    (0..n).filter(|&i| i != but).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn check_finds_missing_extra_and_duplicates() {
        let a = vec![1u8; 20];
        let b = vec![2u8; 20];
        let d = Delivery {
            got: vec![vec![a.clone()], vec![a.clone(), a.clone()], vec![b.clone()]],
        };
        assert!(
            d.check(&[(&a, &[0, 1]), (&b, &[2])]).is_err(),
            "duplicate at 1"
        );
        let d = Delivery {
            got: vec![vec![a.clone()], vec![a.clone()], vec![]],
        };
        assert!(d
            .check(&[(&a, &[0, 1]), (&b, &[2])])
            .unwrap_err()
            .contains("endpoint 2 missed"));
        assert!(d.check(&[(&a, &[0, 1])]).is_ok());
        assert!(d
            .check(&[(&a, &[0])])
            .unwrap_err()
            .contains("endpoint 1 got a copy"));
        assert_eq!(d.who_got(&a), vec![0, 1]);
        assert_eq!(all_but(4, 2), vec![0, 1, 3]);
    }
}
