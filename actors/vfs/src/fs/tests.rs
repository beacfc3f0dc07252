//! Every operation and every error of the file system, on a small archive built like the
//! ramdisk.

use protocol::vfs::{MAX_NAME, MAX_PATH, TMP_CAPACITY};
use sdk::msg;

use super::*;
use crate::ustar::tests::archive;
use crate::ustar::{self, Image};

const HELLO: &[u8] = b"\0asm hello";

/// When the file systems below start, and when the functions below act, so that everything has
/// these times; the tests about times act at later ones.
const NOW: u64 = 1_700_000_000_000_000_000;

/// A file system over an archive like the ramdisk's, with a `/tmp` of `capacity` bytes.
fn fs_with(capacity: u64) -> Fs<Vec<u8>> {
    let big: Vec<u8> = (0..5000u32).map(|i| i as u8).collect();
    let image = archive(
        &[("hello.wasm", HELLO), ("test/abi.manifest", b"actor a\n"), ("test/big.bin", &big)],
        &["empty"],
    );
    let scan = ustar::scan(&image, image.len() as u64);
    assert!(scan.intact);
    Fs::new(image, &scan.entries, capacity, NOW)
}

fn fs() -> Fs<Vec<u8>> {
    fs_with(TMP_CAPACITY)
}

fn read(fs: &mut Fs<impl Image>, path: &str, offset: u64, len: u32) -> Result<Vec<u8>, Error> {
    match fs.handle(Request::Read { path: path.into(), offset, len }, NOW)? {
        Reply::Data(bytes) => Ok(bytes),
        other => panic!("Read answered {other:?}"),
    }
}

fn write(fs: &mut Fs<impl Image>, path: &str, mode: WriteMode, data: &[u8]) -> Result<u64, Error> {
    match fs.handle(Request::Write { path: path.into(), mode, data: data.to_vec() }, NOW)? {
        Reply::Written { size } => Ok(size),
        other => panic!("Write answered {other:?}"),
    }
}

fn stat(fs: &mut Fs<impl Image>, path: &str) -> Result<Metadata, Error> {
    match fs.handle(Request::Stat { path: path.into() }, NOW)? {
        Reply::Stat(metadata) => Ok(metadata),
        other => panic!("Stat answered {other:?}"),
    }
}

/// One page of a listing.
fn list_page(
    fs: &mut Fs<impl Image>,
    path: &str,
    after: Option<&str>,
) -> Result<(Vec<DirEntry>, bool), Error> {
    match fs.handle(Request::List { path: path.into(), after: after.map(String::from) }, NOW)? {
        Reply::Entries { entries, more } => Ok((entries, more)),
        other => panic!("List answered {other:?}"),
    }
}

/// Every name in a directory, page by page.
fn names(fs: &mut Fs<impl Image>, path: &str) -> Result<Vec<String>, Error> {
    let mut all: Vec<String> = Vec::new();
    loop {
        let (entries, more) = list_page(fs, path, all.last().map(String::as_str))?;
        all.extend(entries.into_iter().map(|e| e.name));
        if !more {
            return Ok(all);
        }
    }
}

fn mkdir(fs: &mut Fs<impl Image>, path: &str) -> Result<(), Error> {
    fs.handle(Request::Mkdir { path: path.into() }, NOW).map(|reply| assert_eq!(reply, Reply::Done))
}

fn remove(fs: &mut Fs<impl Image>, path: &str) -> Result<(), Error> {
    fs.handle(Request::Remove { path: path.into() }, NOW).map(|reply| assert_eq!(reply, Reply::Done))
}

/// What `Stat` tells of a file of `size` bytes with the times `NOW`.
fn file(size: u64) -> Metadata {
    Metadata { kind: Kind::File, size, accessed: NOW, modified: NOW }
}

/// What `Stat` tells of a directory of `size` entries with the times `NOW`.
fn dir(size: u64) -> Metadata {
    Metadata { kind: Kind::Dir, size, accessed: NOW, modified: NOW }
}

#[test]
fn the_root_holds_the_archive_and_tmp() {
    let mut fs = fs();
    let (entries, more) = list_page(&mut fs, "/", None).unwrap();
    assert!(!more);
    let expected = [
        DirEntry { name: "empty".into(), kind: Kind::Dir, size: 0 },
        DirEntry { name: "hello.wasm".into(), kind: Kind::File, size: HELLO.len() as u64 },
        DirEntry { name: "test".into(), kind: Kind::Dir, size: 2 },
        DirEntry { name: "tmp".into(), kind: Kind::Dir, size: 0 },
    ];
    assert_eq!(entries, expected);
    assert_eq!(names(&mut fs, "/test").unwrap(), ["abi.manifest", "big.bin"]);
    assert_eq!(stat(&mut fs, "/").unwrap(), dir(4));
    assert_eq!(stat(&mut fs, "/tmp").unwrap(), dir(0));
    assert_eq!(stat(&mut fs, "/test/big.bin").unwrap(), file(5000));
}

#[test]
fn ramdisk_files_read_whole_in_parts_and_past_the_end() {
    let mut fs = fs();
    assert_eq!(read(&mut fs, "/hello.wasm", 0, 100).unwrap(), HELLO);
    assert_eq!(read(&mut fs, "/hello.wasm", 5, 3).unwrap(), b"hel");
    assert_eq!(read(&mut fs, "/hello.wasm", 8, 100).unwrap(), b"lo");
    assert_eq!(read(&mut fs, "/hello.wasm", 10, 100).unwrap(), b"");
    assert_eq!(read(&mut fs, "/hello.wasm", u64::MAX, u32::MAX).unwrap(), b"");
    assert_eq!(read(&mut fs, "/hello.wasm", 0, 0).unwrap(), b"");
    assert_eq!(read(&mut fs, "/test/abi.manifest", 0, 100).unwrap(), b"actor a\n");
}

#[test]
fn one_read_returns_at_most_max_io_bytes() {
    let mut fs = fs();
    let first = read(&mut fs, "/test/big.bin", 0, u32::MAX).unwrap();
    assert_eq!(first.len(), MAX_IO as usize);
    let rest = read(&mut fs, "/test/big.bin", MAX_IO.into(), u32::MAX).unwrap();
    assert_eq!(rest.len(), 5000 - MAX_IO as usize);
    let whole: Vec<u8> = first.into_iter().chain(rest).collect();
    assert!(whole.iter().enumerate().all(|(i, &b)| b == i as u8));
}

#[test]
fn reading_a_directory_or_a_missing_file_fails() {
    let mut fs = fs();
    assert_eq!(read(&mut fs, "/test", 0, 10), Err(Error::IsADirectory));
    assert_eq!(read(&mut fs, "/tmp", 0, 10), Err(Error::IsADirectory));
    assert_eq!(read(&mut fs, "/", 0, 10), Err(Error::IsADirectory));
    assert_eq!(read(&mut fs, "/nothing", 0, 10), Err(Error::NotFound));
    assert_eq!(read(&mut fs, "/nothing/deeper", 0, 10), Err(Error::NotFound));
    assert_eq!(stat(&mut fs, "/tmp/nothing"), Err(Error::NotFound));
}

#[test]
fn a_file_in_the_middle_of_a_path_is_not_a_directory() {
    let mut fs = fs();
    assert_eq!(read(&mut fs, "/hello.wasm/x", 0, 10), Err(Error::NotADirectory));
    assert_eq!(stat(&mut fs, "/test/big.bin/x/y"), Err(Error::NotADirectory));
    assert_eq!(list_page(&mut fs, "/hello.wasm", None), Err(Error::NotADirectory));
    write(&mut fs, "/tmp/f", WriteMode::Truncate, b"f").unwrap();
    assert_eq!(write(&mut fs, "/tmp/f/g", WriteMode::Truncate, b"g"), Err(Error::NotADirectory));
    assert_eq!(mkdir(&mut fs, "/tmp/f/d"), Err(Error::NotADirectory));
    assert_eq!(remove(&mut fs, "/tmp/f/g"), Err(Error::NotADirectory));
    assert_eq!(list_page(&mut fs, "/tmp/f", None), Err(Error::NotADirectory));
}

#[test]
fn bad_paths_are_refused_by_every_operation() {
    let mut fs = fs();
    let long = format!("/tmp/{}", "x".repeat(MAX_NAME + 1));
    for path in ["", "tmp/a", "hello.wasm", "/tmp/a\0", long.as_str()] {
        assert_eq!(read(&mut fs, path, 0, 1), Err(Error::BadPath), "{path:?}");
        assert_eq!(write(&mut fs, path, WriteMode::Append, b"x"), Err(Error::BadPath), "{path:?}");
        assert_eq!(stat(&mut fs, path), Err(Error::BadPath), "{path:?}");
        assert_eq!(list_page(&mut fs, path, None), Err(Error::BadPath), "{path:?}");
        assert_eq!(mkdir(&mut fs, path), Err(Error::BadPath), "{path:?}");
        assert_eq!(remove(&mut fs, path), Err(Error::BadPath), "{path:?}");
    }
    assert_eq!(fs.used, 0);
}

#[test]
fn every_spelling_of_a_path_names_the_same_file() {
    let mut fs = fs();
    write(&mut fs, "//tmp/./x/../a.txt", WriteMode::Truncate, b"same").unwrap();
    for path in ["/tmp/a.txt", "/tmp//a.txt/", "/../tmp/a.txt", "/test/../tmp/./a.txt"] {
        assert_eq!(read(&mut fs, path, 0, 10).unwrap(), b"same", "{path}");
    }
    assert_eq!(read(&mut fs, "/test/../hello.wasm", 0, 4).unwrap(), b"\0asm");
    assert_eq!(names(&mut fs, "/tmp/").unwrap(), ["a.txt"]);
}

#[test]
fn nothing_outside_tmp_changes() {
    let mut fs = fs();
    for path in
        ["/hello.wasm", "/new.txt", "/test/new", "/test/abi.manifest", "/tmp", "/tmp/..", "/", "/empty/x"]
    {
        assert_eq!(write(&mut fs, path, WriteMode::Truncate, b"x"), Err(Error::ReadOnly), "{path}");
        assert_eq!(write(&mut fs, path, WriteMode::Append, b"x"), Err(Error::ReadOnly), "{path}");
        assert_eq!(mkdir(&mut fs, path), Err(Error::ReadOnly), "{path}");
        assert_eq!(remove(&mut fs, path), Err(Error::ReadOnly), "{path}");
    }
    assert_eq!(read(&mut fs, "/hello.wasm", 0, 100).unwrap(), HELLO);
    assert_eq!(names(&mut fs, "/").unwrap(), ["empty", "hello.wasm", "test", "tmp"]);
    assert_eq!(fs.used, 0);
}

#[test]
fn a_written_file_reads_back_and_stats_its_size() {
    let mut fs = fs();
    assert_eq!(write(&mut fs, "/tmp/a.txt", WriteMode::Truncate, b"hello, vfs\n"), Ok(11));
    assert_eq!(read(&mut fs, "/tmp/a.txt", 0, 100).unwrap(), b"hello, vfs\n");
    assert_eq!(read(&mut fs, "/tmp/a.txt", 7, 100).unwrap(), b"vfs\n");
    assert_eq!(read(&mut fs, "/tmp/a.txt", 11, 100).unwrap(), b"");
    assert_eq!(read(&mut fs, "/tmp/a.txt", u64::MAX, 100).unwrap(), b"");
    assert_eq!(stat(&mut fs, "/tmp/a.txt").unwrap(), file(11));
    assert_eq!(
        list_page(&mut fs, "/tmp", None).unwrap(),
        (vec![DirEntry { name: "a.txt".into(), kind: Kind::File, size: 11 }], false)
    );
}

#[test]
fn write_modes_truncate_append_and_overwrite_at_an_offset() {
    let mut fs = fs();
    let path = "/tmp/f";
    assert_eq!(write(&mut fs, path, WriteMode::Append, b"abc"), Ok(3), "append creates");
    assert_eq!(write(&mut fs, path, WriteMode::Append, b"def"), Ok(6));
    assert_eq!(write(&mut fs, path, WriteMode::At(1), b"XY"), Ok(6), "inside");
    assert_eq!(read(&mut fs, path, 0, 100).unwrap(), b"aXYdef");
    assert_eq!(write(&mut fs, path, WriteMode::At(5), b"ZZ"), Ok(7), "across the end");
    assert_eq!(write(&mut fs, path, WriteMode::At(9), b"!"), Ok(10), "past the end");
    assert_eq!(read(&mut fs, path, 0, 100).unwrap(), b"aXYdeZZ\0\0!");
    assert_eq!(write(&mut fs, path, WriteMode::Truncate, b"new"), Ok(3), "shorter");
    assert_eq!(read(&mut fs, path, 0, 100).unwrap(), b"new");
    assert_eq!(write(&mut fs, path, WriteMode::Truncate, b""), Ok(0), "emptied");
    assert_eq!(stat(&mut fs, path).unwrap(), file(0));
    assert_eq!(write(&mut fs, "/tmp/g", WriteMode::At(4), b"x"), Ok(5), "at creates");
    assert_eq!(read(&mut fs, "/tmp/g", 0, 100).unwrap(), b"\0\0\0\0x");
}

#[test]
fn writing_needs_an_existing_directory_and_a_file() {
    let mut fs = fs();
    assert_eq!(write(&mut fs, "/tmp/no/a.txt", WriteMode::Truncate, b"x"), Err(Error::NotFound));
    mkdir(&mut fs, "/tmp/d").unwrap();
    assert_eq!(write(&mut fs, "/tmp/d", WriteMode::Truncate, b"x"), Err(Error::IsADirectory));
    assert_eq!(write(&mut fs, "/tmp/d", WriteMode::Append, b"x"), Err(Error::IsADirectory));
    assert_eq!(write(&mut fs, "/tmp/d/", WriteMode::At(0), b"x"), Err(Error::IsADirectory));
    assert_eq!(write(&mut fs, "/tmp/d/a.txt", WriteMode::Truncate, b"x"), Ok(1));
}

#[test]
fn directories_are_made_listed_and_removed() {
    let mut fs = fs();
    mkdir(&mut fs, "/tmp/d").unwrap();
    mkdir(&mut fs, "/tmp/d/e").unwrap();
    assert_eq!(mkdir(&mut fs, "/tmp/d"), Err(Error::AlreadyExists));
    assert_eq!(mkdir(&mut fs, "/tmp/d/e/"), Err(Error::AlreadyExists));
    write(&mut fs, "/tmp/d/f", WriteMode::Truncate, b"x").unwrap();
    assert_eq!(mkdir(&mut fs, "/tmp/d/f"), Err(Error::AlreadyExists), "a file has the name");
    assert_eq!(mkdir(&mut fs, "/tmp/x/y"), Err(Error::NotFound), "no parent");
    assert_eq!(stat(&mut fs, "/tmp/d").unwrap(), dir(2));
    assert_eq!(names(&mut fs, "/tmp/d").unwrap(), ["e", "f"]);
    assert_eq!(remove(&mut fs, "/tmp/d"), Err(Error::NotEmpty));
    remove(&mut fs, "/tmp/d/e").unwrap();
    remove(&mut fs, "/tmp/d/f").unwrap();
    remove(&mut fs, "/tmp/d/").unwrap();
    assert_eq!(stat(&mut fs, "/tmp/d"), Err(Error::NotFound));
    assert_eq!(remove(&mut fs, "/tmp/d"), Err(Error::NotFound));
    assert_eq!(remove(&mut fs, "/tmp/x/y"), Err(Error::NotFound));
    assert_eq!(fs.used, 0, "everything counted was given back");
}

#[test]
fn a_removed_file_is_gone() {
    let mut fs = fs();
    write(&mut fs, "/tmp/a.txt", WriteMode::Truncate, b"bytes").unwrap();
    remove(&mut fs, "/tmp/a.txt").unwrap();
    assert_eq!(read(&mut fs, "/tmp/a.txt", 0, 10), Err(Error::NotFound));
    assert!(names(&mut fs, "/tmp").unwrap().is_empty());
    assert_eq!(fs.used, 0);
}

#[test]
fn tmp_holds_its_capacity_and_not_a_byte_more() {
    let cost = ENTRY_COST + 1; // an entry named with one letter
    let mut fs = fs_with(cost + 100);
    assert_eq!(write(&mut fs, "/tmp/a", WriteMode::Truncate, &[1; 101]), Err(Error::NoSpace));
    assert_eq!(stat(&mut fs, "/tmp/a"), Err(Error::NotFound), "a refused write creates nothing");
    assert_eq!(write(&mut fs, "/tmp/a", WriteMode::Truncate, &[1; 100]), Ok(100), "exactly full");
    assert_eq!(write(&mut fs, "/tmp/a", WriteMode::Append, b"x"), Err(Error::NoSpace));
    assert_eq!(write(&mut fs, "/tmp/a", WriteMode::At(100), b"x"), Err(Error::NoSpace));
    assert_eq!(write(&mut fs, "/tmp/b", WriteMode::Truncate, b""), Err(Error::NoSpace), "entries count");
    assert_eq!(mkdir(&mut fs, "/tmp/d"), Err(Error::NoSpace));
    assert_eq!(read(&mut fs, "/tmp/a", 0, 1000).unwrap(), [1; 100], "a refused write changes nothing");
    // Overwriting in place and shrinking need no more room.
    assert_eq!(write(&mut fs, "/tmp/a", WriteMode::At(0), &[2; 100]), Ok(100));
    assert_eq!(write(&mut fs, "/tmp/a", WriteMode::Truncate, &[3; 50]), Ok(50));
    assert_eq!(write(&mut fs, "/tmp/a", WriteMode::Append, &[4; 50]), Ok(100), "freed room is reused");
    remove(&mut fs, "/tmp/a").unwrap();
    assert_eq!(fs.used, 0);
    mkdir(&mut fs, "/tmp/d").unwrap();
}

#[test]
fn huge_offsets_get_no_space_not_a_crash() {
    let mut fs = fs();
    for at in [u64::MAX, u64::MAX - 1, TMP_CAPACITY, 1 << 40] {
        assert_eq!(write(&mut fs, "/tmp/a", WriteMode::At(at), b"xy"), Err(Error::NoSpace), "{at}");
    }
    assert_eq!(fs.used, 0);
}

#[test]
fn filling_tmp_with_empty_directories_ends_in_no_space() {
    let mut fs = fs_with(10 * (ENTRY_COST + 3));
    let made = (0..100).take_while(|i| mkdir(&mut fs, &format!("/tmp/{i:03}")).is_ok()).count();
    assert_eq!(made, 10);
    assert_eq!(mkdir(&mut fs, "/tmp/new"), Err(Error::NoSpace));
}

#[test]
fn a_megabyte_fits_in_max_io_pieces() {
    let mut fs = fs();
    let piece = vec![b'z'; MAX_IO as usize];
    let mut size = 0;
    let result = loop {
        match write(&mut fs, "/tmp/big", WriteMode::Append, &piece) {
            Ok(new_size) => size = new_size,
            Err(error) => break error,
        }
    };
    assert_eq!(result, Error::NoSpace);
    assert!(size > TMP_CAPACITY - ENTRY_COST - 4 - u64::from(MAX_IO), "{size}");
    let tail = read(&mut fs, "/tmp/big", size - 1, 10).unwrap();
    assert_eq!(tail, b"z");
}

#[test]
fn long_listings_come_in_pages_that_each_fit_in_a_message() {
    let mut fs = fs();
    let mut expected = Vec::new();
    for i in 0..40 {
        let name = format!("{i:02}{}", "n".repeat(MAX_NAME - 2));
        write(&mut fs, &format!("/tmp/{name}"), WriteMode::At(u64::from(u32::MAX) - 1 - i), b"")
            .expect_err("too big");
        mkdir(&mut fs, &format!("/tmp/{name}")).unwrap();
        expected.push(name);
    }
    let mut pages = 0;
    let mut seen: Vec<String> = Vec::new();
    loop {
        let reply = fs.handle(Request::List { path: "/tmp".into(), after: seen.last().cloned() }, NOW);
        let encoded = msg::encode(&reply).unwrap();
        assert!(encoded.len() <= sdk::sys::MAX_PAYLOAD, "a page of {} bytes", encoded.len());
        let Ok(Reply::Entries { entries, more }) = reply else { panic!("{reply:?}") };
        assert!(!entries.is_empty());
        pages += 1;
        seen.extend(entries.into_iter().map(|e| e.name));
        if !more {
            break;
        }
    }
    assert!(pages > 1, "{pages} pages");
    assert_eq!(seen, expected);
}

#[test]
fn a_listing_resumes_after_a_name_that_was_removed_meanwhile() {
    let mut fs = fs();
    for name in ["a", "b", "c", "d"] {
        mkdir(&mut fs, &format!("/tmp/{name}")).unwrap();
    }
    remove(&mut fs, "/tmp/b").unwrap();
    let (entries, more) = list_page(&mut fs, "/tmp", Some("b")).unwrap();
    assert!(!more);
    let names: Vec<&str> = entries.iter().map(|e| e.name.as_str()).collect();
    assert_eq!(names, ["c", "d"]);
    assert_eq!(list_page(&mut fs, "/tmp", Some("zzz")).unwrap(), (vec![], false));
}

#[test]
fn the_largest_read_reply_and_write_request_fit_in_a_message() {
    let mut fs = fs();
    let data = read(&mut fs, "/test/big.bin", 0, MAX_IO).unwrap();
    let reply: Response = Ok(Reply::Data(data.clone()));
    assert!(msg::encode(&reply).unwrap().len() <= sdk::sys::MAX_PAYLOAD);
    let path = format!("/tmp/{}", "p".repeat(MAX_PATH - 5));
    let request = Request::Write { path, mode: WriteMode::At(u64::MAX), data };
    assert!(msg::encode(&request).unwrap().len() <= sdk::sys::MAX_PAYLOAD);
}

#[test]
fn archive_entries_that_cannot_be_placed_are_left_out() {
    let image = archive(
        &[
            ("tmp/shadowed", b"no"),
            ("a", b"first"),
            ("a", b"second"),
            ("a/under-a-file", b"no"),
            ("dir/file", b"yes"),
            ("dir", b"a file named like a directory"),
            ("../../escaped", b"stays inside"),
        ],
        &["tmp"],
    );
    let scan = ustar::scan(&image, image.len() as u64);
    let mut fs = Fs::new(image, &scan.entries, TMP_CAPACITY, NOW);
    assert_eq!(names(&mut fs, "/").unwrap(), ["a", "dir", "escaped", "tmp"]);
    assert_eq!(names(&mut fs, "/tmp").unwrap(), Vec::<String>::new());
    assert_eq!(read(&mut fs, "/a", 0, 10).unwrap(), b"first");
    assert_eq!(read(&mut fs, "/dir/file", 0, 10).unwrap(), b"yes");
    assert_eq!(read(&mut fs, "/escaped", 0, 20).unwrap(), b"stays inside");
}

#[test]
fn an_unreadable_ramdisk_gives_io_errors() {
    let image = archive(&[("hello.wasm", HELLO)], &[]);
    let scan = ustar::scan(&image, image.len() as u64);
    // The archive shrank after the scan: its bytes can no longer be read.
    let mut fs = Fs::new(Vec::new(), &scan.entries, TMP_CAPACITY, NOW);
    assert_eq!(read(&mut fs, "/hello.wasm", 0, 4), Err(Error::Io));
    assert_eq!(stat(&mut fs, "/hello.wasm").unwrap(), file(HELLO.len() as u64));
}

fn rename(fs: &mut Fs<impl Image>, from: &str, to: &str) -> Result<(), Error> {
    fs.handle(Request::Rename { from: from.into(), to: to.into() }, NOW).map(drop)
}

#[test]
fn rename_moves_files_and_directories_as_posix_does() {
    let mut fs = fs();
    write(&mut fs, "/tmp/a.txt", WriteMode::Truncate, b"aaa").unwrap();
    mkdir(&mut fs, "/tmp/d").unwrap();
    rename(&mut fs, "/tmp/a.txt", "/tmp/d/b.txt").unwrap();
    assert_eq!(read(&mut fs, "/tmp/d/b.txt", 0, 10), Ok(b"aaa".to_vec()));
    assert_eq!(stat(&mut fs, "/tmp/a.txt"), Err(Error::NotFound));
    rename(&mut fs, "/tmp/d", "/tmp/e").unwrap();
    assert_eq!(names(&mut fs, "/tmp/e"), Ok(vec!["b.txt".into()]));
    rename(&mut fs, "/tmp/e/b.txt", "/tmp/e/./b.txt").unwrap();
    assert_eq!(stat(&mut fs, "/tmp/e/b.txt"), Ok(file(3)), "onto itself: nothing changes");

    write(&mut fs, "/tmp/over.txt", WriteMode::Truncate, b"replaced").unwrap();
    rename(&mut fs, "/tmp/e/b.txt", "/tmp/over.txt").unwrap();
    assert_eq!(read(&mut fs, "/tmp/over.txt", 0, 10), Ok(b"aaa".to_vec()), "a file replaces a file");
    mkdir(&mut fs, "/tmp/empty").unwrap();
    rename(&mut fs, "/tmp/e", "/tmp/empty").unwrap();
    assert_eq!(
        names(&mut fs, "/tmp"),
        Ok(vec!["empty".into(), "over.txt".into()]),
        "a directory an empty one"
    );
    remove(&mut fs, "/tmp/empty").unwrap();
    remove(&mut fs, "/tmp/over.txt").unwrap();
    assert_eq!(fs.used, 0, "every move kept the count of what /tmp holds");
}

#[test]
fn rename_refuses_what_posix_refuses_and_changes_nothing() {
    let mut fs = fs();
    mkdir(&mut fs, "/tmp/d").unwrap();
    mkdir(&mut fs, "/tmp/full").unwrap();
    write(&mut fs, "/tmp/full/x", WriteMode::Truncate, b"x").unwrap();
    write(&mut fs, "/tmp/f", WriteMode::Truncate, b"f").unwrap();
    assert_eq!(rename(&mut fs, "/tmp/d", "/tmp/d/inside"), Err(Error::InvalidArgument));
    assert_eq!(rename(&mut fs, "/tmp/d", "/tmp/full"), Err(Error::NotEmpty));
    assert_eq!(rename(&mut fs, "/tmp/d", "/tmp/f"), Err(Error::NotADirectory));
    assert_eq!(rename(&mut fs, "/tmp/f", "/tmp/d"), Err(Error::IsADirectory));
    assert_eq!(rename(&mut fs, "/tmp/nothing", "/tmp/g"), Err(Error::NotFound));
    assert_eq!(rename(&mut fs, "/tmp/f", "/tmp/no/g"), Err(Error::NotFound));
    assert_eq!(rename(&mut fs, "/hello.wasm", "/tmp/h"), Err(Error::ReadOnly));
    assert_eq!(rename(&mut fs, "/tmp/f", "/f"), Err(Error::ReadOnly));
    assert_eq!(rename(&mut fs, "/tmp", "/tmp/x"), Err(Error::ReadOnly));
    assert_eq!(names(&mut fs, "/tmp"), Ok(vec!["d".into(), "f".into(), "full".into()]));
    assert_eq!(stat(&mut fs, "/tmp/full/x"), Ok(file(1)));
}

#[test]
fn truncate_cuts_or_grows_with_zeros_within_the_capacity() {
    let mut fs = fs_with(ENTRY_COST + 1 + 16);
    write(&mut fs, "/tmp/f", WriteMode::Truncate, b"abcdef").unwrap();
    let truncate = |fs: &mut Fs<_>, size| fs.handle(Request::Truncate { path: "/tmp/f".into(), size }, NOW);
    assert_eq!(truncate(&mut fs, 2), Ok(Reply::Written { size: 2 }));
    assert_eq!(read(&mut fs, "/tmp/f", 0, 10), Ok(b"ab".to_vec()));
    assert_eq!(truncate(&mut fs, 5), Ok(Reply::Written { size: 5 }));
    assert_eq!(read(&mut fs, "/tmp/f", 0, 10), Ok(b"ab\0\0\0".to_vec()));
    assert_eq!(truncate(&mut fs, 17), Err(Error::NoSpace), "past the capacity");
    assert_eq!(truncate(&mut fs, u64::MAX), Err(Error::NoSpace));
    assert_eq!(stat(&mut fs, "/tmp/f"), Ok(file(5)), "unchanged by a refusal");
    let at = |fs: &mut Fs<_>, path: &str| fs.handle(Request::Truncate { path: path.into(), size: 0 }, NOW);
    assert_eq!(at(&mut fs, "/tmp"), Err(Error::ReadOnly));
    assert_eq!(at(&mut fs, "/hello.wasm"), Err(Error::ReadOnly));
    assert_eq!(at(&mut fs, "/tmp/none"), Err(Error::NotFound));
}

mod times;
