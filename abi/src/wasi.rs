//! The WASI preview-1 imports (module [`WASI_MODULE`]) the kernel provides, declared once in the
//! grammar of [`with_host_functions!`](crate::with_host_functions): the kernel registers a
//! handler for each ([`WASI_FUNCTIONS`]), and `docs/WASI.md` is held to the list. The
//! signatures are those of `wasi_snapshot_preview1.witx` lowered to core Wasm (every pointer,
//! size, flag set and enum an `i32`; file sizes, offsets, timestamps and rights `i64`); each
//! returns a WASI errno ([`ERRNO_SUCCESS`] or one of the others below), except `proc_exit`.

/// The import module of WASI preview 1.
pub const WASI_MODULE: &str = "wasi_snapshot_preview1";

/// Calls `$m!` with every WASI function, in `wasi_snapshot_preview1.witx`'s order, in the
/// grammar of [`with_host_functions!`](crate::with_host_functions); `needs` names the WASI
/// rights the call checks on its descriptor.
#[macro_export]
macro_rules! with_wasi_functions {
    ($m:ident) => {
        $m! {
            /// Writes the pointers to the arguments into `argv` and their bytes into `argv_buf`.
            writes fn args_get(argv: i32, argv_buf: i32) -> i32; needs "";
            /// Writes the number of arguments and the bytes they take.
            writes fn args_sizes_get(argc: i32, argv_buf_size: i32) -> i32; needs "";
            /// Writes the pointers to the environment's `NAME=VALUE` strings and their bytes.
            writes fn environ_get(environ: i32, environ_buf: i32) -> i32; needs "";
            /// Writes the number of environment strings and the bytes they take.
            writes fn environ_sizes_get(count: i32, buf_size: i32) -> i32; needs "";
            /// Writes the resolution of clock `id` in nanoseconds.
            writes fn clock_res_get(id: i32, resolution: i32) -> i32; needs "";
            /// Writes the time of clock `id` in nanoseconds.
            writes fn clock_time_get(id: i32, precision: i64, time: i32) -> i32; needs "";
            /// Advice on how a range of a file will be used (taken, and changes nothing).
            safe fn fd_advise(fd: i32, offset: i64, len: i64, advice: i32) -> i32; needs "FD_ADVISE";
            /// Makes the file at least `offset + len` bytes long.
            safe fn fd_allocate(fd: i32, offset: i64, len: i64) -> i32; needs "FD_ALLOCATE";
            /// Closes the descriptor.
            safe fn fd_close(fd: i32) -> i32; needs "";
            /// Waits until the file's data is stored (the vfs keeps it in memory: at once).
            safe fn fd_datasync(fd: i32) -> i32; needs "FD_DATASYNC";
            /// Writes the descriptor's type, flags and rights.
            writes fn fd_fdstat_get(fd: i32, stat: i32) -> i32; needs "";
            /// Sets the descriptor's flags (only `APPEND` can change).
            safe fn fd_fdstat_set_flags(fd: i32, flags: i32) -> i32; needs "FD_FDSTAT_SET_FLAGS";
            /// Narrows the descriptor's rights.
            safe fn fd_fdstat_set_rights(fd: i32, fs_rights_base: i64, fs_rights_inheriting: i64) -> i32;
                needs "";
            /// Writes the attributes of the descriptor's file or directory.
            writes fn fd_filestat_get(fd: i32, buf: i32) -> i32; needs "FD_FILESTAT_GET";
            /// Cuts or grows the file to `size` bytes.
            safe fn fd_filestat_set_size(fd: i32, size: i64) -> i32; needs "FD_FILESTAT_SET_SIZE";
            /// Sets the file's access and modification times.
            safe fn fd_filestat_set_times(fd: i32, atim: i64, mtim: i64, fst_flags: i32) -> i32;
                needs "FD_FILESTAT_SET_TIMES";
            /// Reads into the buffers from `offset`, leaving the descriptor's offset alone.
            writes fn fd_pread(fd: i32, iovs: i32, iovs_len: i32, offset: i64, nread: i32) -> i32;
                needs "FD_READ";
            /// Writes what a preopened descriptor is (a directory, and its name's length).
            writes fn fd_prestat_get(fd: i32, buf: i32) -> i32; needs "";
            /// Writes a preopened directory's name.
            writes fn fd_prestat_dir_name(fd: i32, path: i32, path_len: i32) -> i32; needs "";
            /// Writes the buffers at `offset`, leaving the descriptor's offset alone.
            writes fn fd_pwrite(fd: i32, iovs: i32, iovs_len: i32, offset: i64, nwritten: i32) -> i32;
                needs "FD_WRITE";
            /// Reads into the buffers from the descriptor's offset.
            writes fn fd_read(fd: i32, iovs: i32, iovs_len: i32, nread: i32) -> i32; needs "FD_READ";
            /// Writes directory entries from `cookie` on into the buffer.
            writes fn fd_readdir(fd: i32, buf: i32, buf_len: i32, cookie: i64, bufused: i32) -> i32;
                needs "FD_READDIR";
            /// Moves descriptor `fd` to number `to`, closing what `to` was.
            safe fn fd_renumber(fd: i32, to: i32) -> i32; needs "";
            /// Moves the descriptor's offset; writes the new one.
            writes fn fd_seek(fd: i32, offset: i64, whence: i32, newoffset: i32) -> i32; needs "FD_SEEK";
            /// Waits until the file is stored (at once, as `fd_datasync`).
            safe fn fd_sync(fd: i32) -> i32; needs "FD_SYNC";
            /// Writes the descriptor's offset.
            writes fn fd_tell(fd: i32, offset: i32) -> i32; needs "FD_TELL";
            /// Writes the buffers at the descriptor's offset (its end with `APPEND`).
            writes fn fd_write(fd: i32, iovs: i32, iovs_len: i32, nwritten: i32) -> i32; needs "FD_WRITE";
            /// Creates a directory.
            safe fn path_create_directory(fd: i32, path: i32, path_len: i32) -> i32;
                needs "PATH_CREATE_DIRECTORY";
            /// Writes the attributes of the file or directory at the path.
            writes fn path_filestat_get(fd: i32, flags: i32, path: i32, path_len: i32, buf: i32) -> i32;
                needs "PATH_FILESTAT_GET";
            /// Sets the access and modification times of the file or directory at the path.
            safe fn path_filestat_set_times(
                fd: i32,
                flags: i32,
                path: i32,
                path_len: i32,
                atim: i64,
                mtim: i64,
                fst_flags: i32
            ) -> i32;
                needs "PATH_FILESTAT_SET_TIMES";
            /// Hard links: `ENOTSUP` (the vfs has no links).
            safe fn path_link(
                old_fd: i32,
                old_flags: i32,
                old_path: i32,
                old_path_len: i32,
                new_fd: i32,
                new_path: i32,
                new_path_len: i32
            ) -> i32;
                needs "PATH_LINK_SOURCE, PATH_LINK_TARGET";
            /// Opens the file or directory at the path; writes the new descriptor.
            writes fn path_open(
                fd: i32,
                dirflags: i32,
                path: i32,
                path_len: i32,
                oflags: i32,
                fs_rights_base: i64,
                fs_rights_inheriting: i64,
                fdflags: i32,
                opened_fd: i32
            ) -> i32;
                needs "PATH_OPEN, and PATH_CREATE_FILE or PATH_FILESTAT_SET_SIZE for the oflags";
            /// Reads a symbolic link: `EINVAL` for what exists (nothing is a link), else `ENOENT`.
            writes fn path_readlink(fd: i32, path: i32, path_len: i32, buf: i32, buf_len: i32, bufused: i32) -> i32;
                needs "PATH_READLINK";
            /// Removes an empty directory.
            safe fn path_remove_directory(fd: i32, path: i32, path_len: i32) -> i32;
                needs "PATH_REMOVE_DIRECTORY";
            /// Moves a file or directory, as POSIX `rename`.
            safe fn path_rename(fd: i32, old_path: i32, old_path_len: i32, new_fd: i32, new_path: i32, new_path_len: i32) -> i32;
                needs "PATH_RENAME_SOURCE, PATH_RENAME_TARGET";
            /// Symbolic links: `ENOTSUP` (the vfs has no links).
            safe fn path_symlink(old_path: i32, old_path_len: i32, fd: i32, new_path: i32, new_path_len: i32) -> i32;
                needs "PATH_SYMLINK";
            /// Removes a file.
            safe fn path_unlink_file(fd: i32, path: i32, path_len: i32) -> i32; needs "PATH_UNLINK_FILE";
            /// Waits for clock and descriptor events; writes those that happened.
            writes fn poll_oneoff(in_: i32, out: i32, nsubscriptions: i32, nevents: i32) -> i32;
                needs "FD_READ or FD_WRITE for descriptor events";
            /// Ends the program with status `rval`.
            safe fn proc_exit(rval: i32); needs "";
            /// Sends a signal to the program: `ENOTSUP` (there are no signals).
            safe fn proc_raise(sig: i32) -> i32; needs "";
            /// Gives the CPU away, as `sys_yield`.
            safe fn sched_yield() -> i32; needs "";
            /// Fills the buffer with random bytes.
            writes fn random_get(buf: i32, buf_len: i32) -> i32; needs "";
            /// Accepts a connection: `ENOSYS` until there is a network.
            writes fn sock_accept(fd: i32, flags: i32, result_fd: i32) -> i32; needs "";
            /// Receives from a socket: `ENOSYS` until there is a network.
            writes fn sock_recv(fd: i32, ri_data: i32, ri_data_len: i32, ri_flags: i32, ro_datalen: i32, ro_flags: i32) -> i32;
                needs "";
            /// Sends on a socket: `ENOSYS` until there is a network.
            writes fn sock_send(fd: i32, si_data: i32, si_data_len: i32, si_flags: i32, so_datalen: i32) -> i32;
                needs "";
            /// Shuts a socket down: `ENOSYS` until there is a network.
            safe fn sock_shutdown(fd: i32, how: i32) -> i32; needs "";
        }
    };
}
