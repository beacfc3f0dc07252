//! `sqlite_demo.wasm`: SQLite, through rusqlite with SQLite's own C source compiled in, in a
//! plain Rust `std` program. It creates a database file, writes 10,000 rows in one transaction,
//! reads them back and prints one line, `sqlite_demo: rows=10000 checksum=HEX`, the same on
//! every host: the checksum is FNV-1a (64 bits) over everything the queries returned, so the
//! line printed under MinimalOS can be compared with the one printed natively.
//!
//! Usage: `sqlite_demo [DIR]`. The database is `DIR/sqlite_demo.db` (`/tmp` by default); a
//! stale one is removed first, and the new one is left behind to look at. It exits with 0 when
//! every query returned what the rows written imply, and with 1, after a line on standard error
//! saying what went wrong, otherwise.

use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::process;

use rusqlite::{Connection, params};

/// How many rows the transaction writes.
const ROWS: i64 = 10_000;
/// The database's file name inside the directory given.
const DB_NAME: &str = "sqlite_demo.db";
/// The row the indexed lookup asks for by name.
const LOOKUP: i64 = 4321;

fn main() {
    let dir = std::env::args_os().nth(1).map_or_else(|| PathBuf::from("/tmp"), PathBuf::from);
    match run(&dir) {
        Ok(checksum) => {
            println!("sqlite_demo: rows={ROWS} checksum={checksum:016x}");
            let _ = io::stdout().flush();
        }
        Err(why) => {
            eprintln!("sqlite_demo: {why}");
            process::exit(1);
        }
    }
}

/// Row `i`'s name.
fn name(i: i64) -> String {
    format!("row-{i}")
}

/// Row `i`'s value: spread over a large range, so the sum tests 64-bit arithmetic.
fn value(i: i64) -> i64 {
    i * i % 1_000_003
}

/// Row `i`'s blob: eight bytes that differ from row to row.
fn data(i: i64) -> [u8; 8] {
    (i as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15).to_le_bytes()
}

/// FNV-1a, 64 bits: small, and the same on every host.
struct Fnv(u64);

impl Fnv {
    fn new() -> Fnv {
        Fnv(0xcbf2_9ce4_8422_2325)
    }

    fn bytes(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0 ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3);
        }
    }

    /// A field: its length first, so that ("ab", "c") and ("a", "bc") differ.
    fn field(&mut self, bytes: &[u8]) {
        self.bytes(&(bytes.len() as u64).to_le_bytes());
        self.bytes(bytes);
    }

    fn int(&mut self, n: i64) {
        self.field(&n.to_le_bytes());
    }
}

/// Turns an SQLite error into a message that says which step failed.
fn sql(step: &'static str) -> impl Fn(rusqlite::Error) -> String {
    move |e| format!("{step}: {e}")
}

/// Writes the rows, reads them back and returns the checksum of what came back.
fn run(dir: &Path) -> Result<u64, String> {
    let path = dir.join(DB_NAME);
    remove_stale(&path)?;
    let mut db = Connection::open(&path).map_err(|e| format!("cannot open {}: {e}", path.display()))?;
    // One writer and no other process: take the lock once and keep it, rather than take and
    // drop it around every statement (under WASI SQLite locks with a `.lock` directory beside
    // the database, as WASI has no file locks, so each lock is a mkdir and a rmdir). Both ways
    // work under wasmtime. The journal stays SQLite's default rollback journal, a file beside
    // the database: it asks nothing of WASI beyond creating, writing, syncing and removing a
    // file, whereas WAL would need shared memory, which SQLite leaves out under WASI.
    db.pragma_update(None, "locking_mode", "EXCLUSIVE").map_err(sql("locking_mode"))?;
    db.execute_batch(
        "CREATE TABLE rows (id INTEGER PRIMARY KEY, name TEXT NOT NULL, value INTEGER NOT NULL,
                            data BLOB NOT NULL);
         CREATE INDEX rows_by_name ON rows (name);",
    )
    .map_err(sql("create"))?;

    let tx = db.transaction().map_err(sql("begin"))?;
    {
        let mut insert = tx
            .prepare("INSERT INTO rows (id, name, value, data) VALUES (?1, ?2, ?3, ?4)")
            .map_err(sql("prepare insert"))?;
        for i in 1..=ROWS {
            insert.execute(params![i, name(i), value(i), &data(i)[..]]).map_err(sql("insert"))?;
        }
    }
    tx.commit().map_err(sql("commit"))?;

    let mut hash = Fnv::new();
    let (count, sum): (i64, i64) = db
        .query_row("SELECT count(*), sum(value) FROM rows", [], |r| Ok((r.get(0)?, r.get(1)?)))
        .map_err(sql("count"))?;
    let expected_sum: i64 = (1..=ROWS).map(value).sum();
    if (count, sum) != (ROWS, expected_sum) {
        return Err(format!("count and sum: {count} and {sum}, expected {ROWS} and {expected_sum}"));
    }
    hash.int(count);
    hash.int(sum);

    // The names in text order ("row-1", "row-10", "row-100", ...), which the index provides.
    let names: String = db
        .query_row("SELECT group_concat(name, ',') FROM (SELECT name FROM rows ORDER BY name)", [], |r| {
            r.get(0)
        })
        .map_err(sql("group_concat"))?;
    let mut expected: Vec<String> = (1..=ROWS).map(name).collect();
    expected.sort();
    if names != expected.join(",") {
        return Err("group_concat: the names did not come back in text order".into());
    }
    hash.field(names.as_bytes());

    hash_rows(&db, &mut hash)?;

    // One lookup through the index on `name`; the plan must say it uses it.
    let plan: String = db
        .query_row("EXPLAIN QUERY PLAN SELECT id, value FROM rows WHERE name = ?1", [name(LOOKUP)], |r| {
            r.get(3)
        })
        .map_err(sql("explain"))?;
    if !plan.contains("rows_by_name") {
        return Err(format!("the lookup by name does not use the index: {plan}"));
    }
    let (id, n): (i64, i64) = db
        .query_row("SELECT id, value FROM rows WHERE name = ?1", [name(LOOKUP)], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })
        .map_err(sql("lookup"))?;
    if (id, n) != (LOOKUP, value(LOOKUP)) {
        return Err(format!("lookup of {}: ({id}, {n})", name(LOOKUP)));
    }
    hash.int(id);
    hash.int(n);

    db.close().map_err(|(_, e)| format!("close: {e}"))?;
    Ok(hash.0)
}

/// Reads every row back in id order, checks it is the row written and adds it to `hash`.
fn hash_rows(db: &Connection, hash: &mut Fnv) -> Result<(), String> {
    let mut rows =
        db.prepare("SELECT id, name, value, data FROM rows ORDER BY id").map_err(sql("prepare"))?;
    let mut read = rows.query([]).map_err(sql("select"))?;
    let mut next = 1;
    while let Some(row) = read.next().map_err(sql("step"))? {
        let id: i64 = row.get(0).map_err(sql("id"))?;
        let text: String = row.get(1).map_err(sql("name"))?;
        let n: i64 = row.get(2).map_err(sql("value"))?;
        let blob: Vec<u8> = row.get(3).map_err(sql("data"))?;
        if (id, &text, n, &blob[..]) != (next, &name(next), value(next), &data(next)[..]) {
            return Err(format!("row {next} came back as ({id}, {text:?}, {n}, {blob:?})"));
        }
        hash.int(id);
        hash.field(text.as_bytes());
        hash.int(n);
        hash.field(&blob);
        next += 1;
    }
    match next - 1 {
        ROWS => Ok(()),
        got => Err(format!("{got} rows came back, expected {ROWS}")),
    }
}

/// Removes what an earlier run left: the database, and its journal and lock should that run
/// have been cut short.
fn remove_stale(path: &Path) -> Result<(), String> {
    let beside = |suffix: &str| {
        let mut name = path.as_os_str().to_owned();
        name.push(suffix);
        PathBuf::from(name)
    };
    for file in [path.to_owned(), beside("-journal")] {
        match std::fs::remove_file(&file) {
            Err(e) if e.kind() != io::ErrorKind::NotFound => {
                return Err(format!("cannot remove {}: {e}", file.display()));
            }
            _ => {}
        }
    }
    // SQLite's WASI locking takes a directory as its lock.
    let lock = beside(".lock");
    match std::fs::remove_dir(&lock) {
        Err(e) if e.kind() != io::ErrorKind::NotFound => {
            Err(format!("cannot remove {}: {e}", lock.display()))
        }
        _ => Ok(()),
    }
}
