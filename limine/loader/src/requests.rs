//! Finding the base-revision tag and the requests in the loaded kernel image, and acknowledging
//! the tag, as the protocol's "Base protocol revisions" and "Requests Delimiters" sections say.

use alloc::vec::Vec;
use core::fmt;

use crate::protocol::{
    BASE_REVISION_MAGIC, COMMON_MAGIC, HIGHEST_BASE_REVISION, REQUESTS_END_MARKER, REQUESTS_START_MARKER,
    request,
};

/// A request found in the image.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Request {
    /// Index of the request's first word in the image.
    pub word: usize,
    /// The last two words of its ID (the first two are [`COMMON_MAGIC`]).
    pub id: [u64; 2],
}

/// What the scan found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Scan {
    /// The revision the kernel asked for (0 without a tag).
    pub requested_revision: u64,
    /// The revision the kernel is booted with.
    pub revision: u64,
    /// Requests in image order.
    pub requests: Vec<Request>,
}

impl Scan {
    /// The request with this ID, if the kernel made it.
    pub fn find(&self, id: [u64; 2]) -> Option<Request> {
        self.requests.iter().copied().find(|r| r.id == id)
    }
}

/// Why the image cannot be booted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScanError {
    /// Two base-revision tags in the scanned area.
    DuplicateBaseRevision { offset: usize },
    /// The same request twice, which the protocol forbids.
    DuplicateRequest { id: [u64; 2] },
}

impl fmt::Display for ScanError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::DuplicateBaseRevision { offset } => {
                write!(f, "a second base-revision tag at image offset {offset:#x}")
            }
            Self::DuplicateRequest { id } => {
                write!(f, "request {:#018x} {:#018x} appears twice", id[0], id[1])
            }
        }
    }
}

/// Scans `image` (the loaded kernel, as 8-byte words) between the markers, or all of it when
/// there are none, and acknowledges the base-revision tag: a revision up to 2 is supported,
/// so its third word is set to 0; a higher one is left untouched and the kernel is booted
/// with revision 2, which is how the kernel learns this loader does not support it.
pub fn scan(image: &mut [u64]) -> Result<Scan, ScanError> {
    let mut tag: Option<usize> = None;
    let mut requests: Vec<Request> = Vec::new();
    for word in 0..image.len() {
        let rest = &image[word..];
        if rest.starts_with(&REQUESTS_START_MARKER) {
            // Only the area after the last start marker counts.
            tag = None;
            requests.clear();
        } else if rest.starts_with(&REQUESTS_END_MARKER) {
            break;
        } else if rest.starts_with(&BASE_REVISION_MAGIC) && rest.len() >= 3 {
            if tag.is_some() {
                return Err(ScanError::DuplicateBaseRevision { offset: word * 8 });
            }
            tag = Some(word);
        } else if rest.starts_with(&COMMON_MAGIC) && rest.len() >= request::HEADER_WORDS {
            let id = [rest[2], rest[3]];
            if requests.iter().any(|r| r.id == id) {
                return Err(ScanError::DuplicateRequest { id });
            }
            requests.push(Request { word, id });
        }
    }

    let requested_revision = tag.map_or(0, |t| image[t + 2]);
    let revision = requested_revision.min(HIGHEST_BASE_REVISION);
    if let Some(t) = tag
        && requested_revision <= HIGHEST_BASE_REVISION
    {
        image[t + 2] = 0;
    }
    Ok(Scan { requested_revision, revision, requests })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::id;
    use alloc::vec;

    fn request(id: [u64; 2]) -> Vec<u64> {
        vec![COMMON_MAGIC[0], COMMON_MAGIC[1], id[0], id[1], 0, 0]
    }

    fn tag(revision: u64) -> Vec<u64> {
        vec![BASE_REVISION_MAGIC[0], BASE_REVISION_MAGIC[1], revision]
    }

    fn image(parts: &[&[u64]]) -> Vec<u64> {
        parts.concat()
    }

    #[test]
    fn finds_requests_between_markers_and_acknowledges_revision_2() {
        let outside = request(id::RSDP);
        let mut img = image(&[
            &[7, 7],
            &outside,
            &REQUESTS_START_MARKER,
            &tag(2),
            &request(id::HHDM),
            &request(id::MEMORY_MAP),
            &REQUESTS_END_MARKER,
            &request(id::FRAMEBUFFER),
        ]);
        let scan = scan(&mut img).unwrap();
        assert_eq!((scan.requested_revision, scan.revision), (2, 2));
        assert_eq!(scan.requests.len(), 2);
        let hhdm = scan.find(id::HHDM).unwrap();
        assert_eq!(hhdm.word, 2 + 6 + 4 + 3);
        assert!(scan.find(id::RSDP).is_none(), "before the start marker");
        assert!(scan.find(id::FRAMEBUFFER).is_none(), "after the end marker");
        let tag_word = 2 + 6 + 4;
        assert_eq!(img[tag_word + 2], 0, "supported revisions are acknowledged with 0");
    }

    #[test]
    fn the_last_start_marker_wins() {
        let mut img = image(&[
            &REQUESTS_START_MARKER,
            &tag(1),
            &request(id::HHDM),
            &REQUESTS_START_MARKER,
            &request(id::RSDP),
        ]);
        let scan = scan(&mut img).unwrap();
        assert_eq!(scan.requests.iter().map(|r| r.id).collect::<Vec<_>>(), vec![id::RSDP]);
        assert_eq!(scan.revision, 0, "the tag before the last start marker does not count");
        assert_eq!(img[6], 1, "and is not acknowledged");
    }

    #[test]
    fn without_markers_the_whole_image_is_scanned() {
        let mut img = image(&[&[1, 2, 3], &request(id::HHDM), &tag(1), &request(id::RSDP)]);
        let scan = scan(&mut img).unwrap();
        assert_eq!(scan.requests.len(), 2);
        assert_eq!(scan.revision, 1);
        assert_eq!(img[3 + 6 + 2], 0);
    }

    #[test]
    fn no_tag_means_revision_0() {
        let scan = scan(&mut image(&[&request(id::HHDM)])).unwrap();
        assert_eq!((scan.requested_revision, scan.revision), (0, 0));
    }

    #[test]
    fn unsupported_revisions_are_left_untouched_and_booted_as_2() {
        let mut img = tag(3);
        let scan = scan(&mut img).unwrap();
        assert_eq!((scan.requested_revision, scan.revision), (3, 2));
        assert_eq!(img, tag(3), "the kernel sees its tag unchanged");
    }

    #[test]
    fn duplicates_are_refused() {
        let mut img = image(&[&request(id::HHDM), &request(id::HHDM)]);
        assert_eq!(scan(&mut img), Err(ScanError::DuplicateRequest { id: id::HHDM }));
        let mut img = image(&[&tag(2), &tag(2)]);
        assert_eq!(scan(&mut img), Err(ScanError::DuplicateBaseRevision { offset: 24 }));
    }

    #[test]
    fn truncated_structures_at_the_end_are_ignored() {
        let mut img = vec![COMMON_MAGIC[0], COMMON_MAGIC[1], id::HHDM[0], id::HHDM[1], 0];
        assert!(scan(&mut img).unwrap().requests.is_empty());
    }
}
