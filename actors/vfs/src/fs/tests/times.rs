//! The file times: what each request sets, and what it leaves alone.

use super::*;

/// Carries out `request` at `now`; it must succeed.
fn at(fs: &mut Fs<impl Image>, now: u64, request: Request) {
    if let Err(error) = fs.handle(request, now) {
        panic!("refused at {now}: {error}");
    }
}

/// The times `Stat` tells of `path`: (accessed, modified).
fn times(fs: &mut Fs<impl Image>, path: &str) -> (u64, u64) {
    let Metadata { accessed, modified, .. } = stat(fs, path).unwrap();
    (accessed, modified)
}

fn write_request(path: &str, mode: WriteMode, data: &[u8]) -> Request {
    Request::Write { path: path.into(), mode, data: data.to_vec() }
}

fn set_times(path: &str, accessed: Option<u64>, modified: Option<u64>) -> Request {
    Request::SetTimes { path: path.into(), accessed, modified }
}

#[test]
fn the_ramdisk_the_root_and_tmp_have_the_start_time() {
    let mut fs = fs();
    for path in ["/", "/hello.wasm", "/empty", "/test", "/test/abi.manifest", "/tmp"] {
        assert_eq!(times(&mut fs, path), (NOW, NOW), "{path}");
    }
    at(&mut fs, NOW + 1, Request::Mkdir { path: "/tmp/d".into() });
    assert_eq!(times(&mut fs, "/"), (NOW, NOW), "/tmp changed, not /");
    assert_eq!(times(&mut fs, "/tmp"), (NOW, NOW + 1), "a memory directory");
}

#[test]
fn what_is_made_gets_both_times_and_marks_its_directory() {
    let mut fs = fs();
    at(&mut fs, NOW + 1, Request::Mkdir { path: "/tmp/d".into() });
    assert_eq!(times(&mut fs, "/tmp/d"), (NOW + 1, NOW + 1));
    assert_eq!(times(&mut fs, "/tmp"), (NOW, NOW + 1));
    for (i, mode) in [WriteMode::Truncate, WriteMode::Append, WriteMode::At(3)].into_iter().enumerate() {
        let now = NOW + 2 + i as u64;
        let path = format!("/tmp/d/{i}");
        at(&mut fs, now, write_request(&path, mode, b"x"));
        assert_eq!(times(&mut fs, &path), (now, now), "{mode:?}");
        assert_eq!(times(&mut fs, "/tmp/d"), (NOW + 1, now), "{mode:?}");
    }
    assert_eq!(times(&mut fs, "/tmp"), (NOW, NOW + 1), "a change below its entry is not its own");
    assert_eq!(fs.handle(Request::Mkdir { path: "/tmp/d".into() }, NOW + 9), Err(Error::AlreadyExists));
    assert_eq!(times(&mut fs, "/tmp/d"), (NOW + 1, NOW + 4), "a refusal changes no time");
}

#[test]
fn writes_and_truncates_set_modified_only() {
    let mut fs = fs();
    let path = "/tmp/f";
    let steps = [
        (NOW + 1, write_request(path, WriteMode::Truncate, b"abc")),
        (NOW + 2, write_request(path, WriteMode::Append, b"def")),
        (NOW + 3, write_request(path, WriteMode::At(1), b"X")),
        (NOW + 4, write_request(path, WriteMode::Truncate, b"")),
        (NOW + 5, Request::Truncate { path: path.into(), size: 10 }),
        (NOW + 6, Request::Truncate { path: path.into(), size: 10 }),
    ];
    for (now, request) in steps {
        at(&mut fs, now, request);
        assert_eq!(times(&mut fs, path), (NOW + 1, now), "at {now}");
    }
    assert_eq!(times(&mut fs, "/tmp"), (NOW, NOW + 1), "only making the file was a change of /tmp");
    let refused = write_request(path, WriteMode::At(u64::MAX), b"x");
    assert_eq!(fs.handle(refused, NOW + 7), Err(Error::NoSpace));
    let refused = Request::Truncate { path: path.into(), size: u64::MAX };
    assert_eq!(fs.handle(refused, NOW + 8), Err(Error::NoSpace));
    assert_eq!(times(&mut fs, path), (NOW + 1, NOW + 6), "a refusal changes no time");
}

#[test]
fn reads_and_listings_change_no_time() {
    let mut fs = fs();
    at(&mut fs, NOW + 1, write_request("/tmp/f", WriteMode::Truncate, b"a"));
    for (now, path) in [(NOW + 2, "/tmp/f"), (NOW + 3, "/hello.wasm")] {
        at(&mut fs, now, Request::Read { path: path.into(), offset: 0, len: 10 });
        at(&mut fs, now, Request::Stat { path: path.into() });
    }
    at(&mut fs, NOW + 4, Request::List { path: "/tmp".into(), after: None });
    at(&mut fs, NOW + 4, Request::List { path: "/".into(), after: None });
    assert_eq!(times(&mut fs, "/tmp/f"), (NOW + 1, NOW + 1));
    assert_eq!(times(&mut fs, "/tmp"), (NOW, NOW + 1));
    assert_eq!(times(&mut fs, "/hello.wasm"), (NOW, NOW));
    assert_eq!(times(&mut fs, "/"), (NOW, NOW));
}

#[test]
fn a_removal_marks_its_directory() {
    let mut fs = fs();
    at(&mut fs, NOW + 1, Request::Mkdir { path: "/tmp/d".into() });
    at(&mut fs, NOW + 2, write_request("/tmp/d/f", WriteMode::Truncate, b""));
    assert_eq!(fs.handle(Request::Remove { path: "/tmp/d".into() }, NOW + 3), Err(Error::NotEmpty));
    assert_eq!(times(&mut fs, "/tmp"), (NOW, NOW + 1), "a refusal changes no time");
    at(&mut fs, NOW + 4, Request::Remove { path: "/tmp/d/f".into() });
    assert_eq!(times(&mut fs, "/tmp/d"), (NOW + 1, NOW + 4));
    at(&mut fs, NOW + 5, Request::Remove { path: "/tmp/d".into() });
    assert_eq!(times(&mut fs, "/tmp"), (NOW, NOW + 5));
}

#[test]
fn a_rename_marks_both_directories_and_the_node_keeps_its_times() {
    let mut fs = fs();
    let rename = |from: &str, to: &str| Request::Rename { from: from.into(), to: to.into() };
    at(&mut fs, NOW + 1, Request::Mkdir { path: "/tmp/a".into() });
    at(&mut fs, NOW + 2, Request::Mkdir { path: "/tmp/b".into() });
    at(&mut fs, NOW + 3, write_request("/tmp/a/f", WriteMode::Truncate, b""));
    at(&mut fs, NOW + 4, rename("/tmp/a/f", "/tmp/b/g"));
    assert_eq!(times(&mut fs, "/tmp/b/g"), (NOW + 3, NOW + 3), "the file moved, unchanged");
    assert_eq!(times(&mut fs, "/tmp/a"), (NOW + 1, NOW + 4));
    assert_eq!(times(&mut fs, "/tmp/b"), (NOW + 2, NOW + 4));
    assert_eq!(times(&mut fs, "/tmp"), (NOW, NOW + 2), "neither of its entries came or went");

    at(&mut fs, NOW + 5, rename("/tmp/b", "/tmp/c"));
    assert_eq!(times(&mut fs, "/tmp/c"), (NOW + 2, NOW + 4), "a directory moved, unchanged");
    assert_eq!(times(&mut fs, "/tmp"), (NOW, NOW + 5), "from /tmp to /tmp");

    at(&mut fs, NOW + 6, write_request("/tmp/x", WriteMode::Truncate, b""));
    at(&mut fs, NOW + 7, rename("/tmp/c/g", "/tmp/x"));
    assert_eq!(times(&mut fs, "/tmp/x"), (NOW + 3, NOW + 3), "the replacing file's times, not the replaced");
    assert_eq!(times(&mut fs, "/tmp"), (NOW, NOW + 7));

    at(&mut fs, NOW + 8, rename("/tmp/x", "/tmp/./x"));
    assert_eq!(fs.handle(rename("/tmp/none", "/tmp/y"), NOW + 9), Err(Error::NotFound));
    assert_eq!(fs.handle(rename("/tmp/c", "/tmp/c/in"), NOW + 9), Err(Error::InvalidArgument));
    assert_eq!(times(&mut fs, "/tmp"), (NOW, NOW + 7), "onto itself or refused: no change");
    assert_eq!(times(&mut fs, "/tmp/c"), (NOW + 2, NOW + 7));
}

#[test]
fn set_times_sets_the_times_it_is_given_on_files_and_directories() {
    let mut fs = fs();
    at(&mut fs, NOW + 1, Request::Mkdir { path: "/tmp/d".into() });
    at(&mut fs, NOW + 2, write_request("/tmp/d/f", WriteMode::Truncate, b""));
    for path in ["/tmp/d", "/tmp/d/f"] {
        let (accessed, modified) = times(&mut fs, path);
        assert_eq!(fs.handle(set_times(path, Some(5), None), NOW + 3), Ok(Reply::Done));
        assert_eq!(times(&mut fs, path), (5, modified), "{path}: accessed only");
        at(&mut fs, NOW + 4, set_times(path, None, Some(u64::MAX)));
        assert_eq!(times(&mut fs, path), (5, u64::MAX), "{path}: modified only");
        at(&mut fs, NOW + 5, set_times(path, Some(accessed), Some(0)));
        assert_eq!(times(&mut fs, path), (accessed, 0), "{path}: both");
        at(&mut fs, NOW + 6, set_times(path, None, None));
        assert_eq!(times(&mut fs, path), (accessed, 0), "{path}: neither");
    }
    assert_eq!(times(&mut fs, "/tmp"), (NOW, NOW + 1), "no entry came or went");
    at(&mut fs, NOW + 7, set_times("/tmp/d/../d/f/", Some(8), Some(9)));
    assert_eq!(times(&mut fs, "/tmp/d/f"), (8, 9), "any spelling of the path");
}

#[test]
fn set_times_is_refused_outside_tmp_and_on_a_missing_path() {
    let mut fs = fs();
    at(&mut fs, NOW + 1, write_request("/tmp/f", WriteMode::Truncate, b""));
    let set = |fs: &mut Fs<_>, path: &str| fs.handle(set_times(path, Some(1), Some(2)), NOW + 2);
    for path in ["/", "/hello.wasm", "/test", "/test/abi.manifest", "/empty", "/new", "/tmp", "/tmp/.."] {
        assert_eq!(set(&mut fs, path), Err(Error::ReadOnly), "{path}");
    }
    assert_eq!(set(&mut fs, "/tmp/none"), Err(Error::NotFound));
    assert_eq!(set(&mut fs, "/tmp/no/none"), Err(Error::NotFound));
    assert_eq!(set(&mut fs, "/tmp/f/x"), Err(Error::NotADirectory));
    assert_eq!(set(&mut fs, "tmp/f"), Err(Error::BadPath));
    for path in ["/", "/hello.wasm", "/test", "/test/abi.manifest", "/empty"] {
        assert_eq!(times(&mut fs, path), (NOW, NOW), "{path}");
    }
    assert_eq!(times(&mut fs, "/tmp"), (NOW, NOW + 1));
    assert_eq!(times(&mut fs, "/tmp/f"), (NOW + 1, NOW + 1));
}
