//! The fake kernel's own operations: handles and their rights, endpoints' queues, the guest
//! regions host pointers stand for, the log. The imports it serves are in `fake`.

use super::*;

impl Kernel {
    pub(super) fn new() -> Self {
        Kernel {
            clock: BOOT_NS,
            objects: Vec::new(),
            handles: HashMap::new(),
            next_handle: 0,
            regions: HashMap::new(),
            next_token: TOKEN_BASE,
            framebuffer: None,
            waits: Vec::new(),
            logs: Vec::new(),
            processes: vec![Process { pid: PID as u64, name: NAME.into(), state: PROC_RUNNING, status: -1 }],
            modules: HashMap::new(),
            kernel_log: String::new(),
        }
    }

    /// Appends to the kernel log, keeping the newest [`KERNEL_LOG_MAX`] bytes as the kernel does.
    pub(super) fn print(&mut self, text: &str) {
        self.kernel_log.push_str(text);
        let excess = self.kernel_log.len().saturating_sub(KERNEL_LOG_MAX);
        let cut = (excess..=self.kernel_log.len()).find(|&i| self.kernel_log.is_char_boundary(i));
        self.kernel_log.drain(..cut.unwrap_or(0));
    }

    /// Checks that `handle` is a `system` capability with `right`.
    pub(super) fn system(&self, handle: i64, right: i32) -> Result<(), i32> {
        let cap = self.cap(handle)?;
        if !matches!(self.objects[cap.object], Object::System) {
            return Err(E_WRONG_KIND);
        }
        if cap.rights & right == 0 {
            return Err(E_NO_RIGHTS);
        }
        Ok(())
    }

    pub(super) fn register(&mut self, region: Region) -> i32 {
        let token = self.next_token;
        self.next_token += 1;
        self.regions.insert(token, region);
        token
    }

    /// The first `len` bytes of a read-only region.
    pub(super) fn read(&mut self, token: i32, len: i32) -> Result<Vec<u8>, i32> {
        match self.regions.remove(&token) {
            Some(Region::Read(mut bytes)) if len as u32 as usize <= bytes.len() => {
                bytes.truncate(len as u32 as usize);
                Ok(bytes)
            }
            _ => Err(E_OUT_OF_BOUNDS),
        }
    }

    /// The first `len` bytes of a writable region.
    ///
    /// # Safety
    /// The slice `token` was made from is live and not otherwise borrowed while the result is.
    pub(super) unsafe fn out<'a>(&mut self, token: i32, len: i32) -> Result<&'a mut [u8], i32> {
        match self.regions.remove(&token) {
            Some(Region::Write(at, size)) if len as u32 as usize <= size => {
                // SAFETY: `at` and `size` came from a `&mut [u8]` (in `ptr_mut`) that the
                // caller promises is still live and unborrowed.
                Ok(unsafe { core::slice::from_raw_parts_mut(at, len as u32 as usize) })
            }
            _ => Err(E_OUT_OF_BOUNDS),
        }
    }

    pub(super) fn cap(&self, handle: i64) -> Result<&Cap, i32> {
        self.handles.get(&handle).ok_or(E_INVALID_HANDLE)
    }

    /// The endpoint object `handle` names, if the capability has `right`.
    pub(super) fn endpoint(&self, handle: i64, right: i32) -> Result<usize, i32> {
        let cap = self.cap(handle)?;
        if !matches!(self.objects[cap.object], Object::Endpoint(_)) {
            return Err(E_WRONG_KIND);
        }
        if cap.rights & right == 0 {
            return Err(E_NO_RIGHTS);
        }
        Ok(cap.object)
    }

    pub(super) fn endpoint_mut(&mut self, object: usize) -> &mut Endpoint {
        match &mut self.objects[object] {
            Object::Endpoint(endpoint) => endpoint,
            _ => unreachable!("callers checked the kind"),
        }
    }

    pub(super) fn memory_mut(&mut self, handle: i64) -> &mut Vec<u8> {
        match &mut self.objects[self.handles[&handle].object] {
            Object::Memory(bytes) => bytes,
            _ => unreachable!("callers checked the kind"),
        }
    }

    /// The byte range `offset..offset + len` of the memory object, checked.
    pub(super) fn mem_range(
        &self,
        handle: i64,
        right: i32,
        offset: i32,
        len: i32,
    ) -> Result<core::ops::Range<usize>, i32> {
        let cap = self.cap(handle)?;
        let Object::Memory(bytes) = &self.objects[cap.object] else { return Err(E_WRONG_KIND) };
        if cap.rights & right == 0 {
            return Err(E_NO_RIGHTS);
        }
        let (start, len) = (offset as u32 as usize, len as u32 as usize);
        if start + len > bytes.len() {
            return Err(E_OUT_OF_BOUNDS);
        }
        Ok(start..start + len)
    }

    pub(super) fn send(
        &mut self,
        handle: i64,
        opcode: i32,
        payload_ptr: i32,
        payload_len: i32,
        cap: i64,
    ) -> Result<i64, i32> {
        let payload = self.read(payload_ptr, payload_len)?;
        self.send_bytes(handle, opcode, payload, cap)
    }

    /// As [`send`](Self::send), with the payload already read.
    pub(super) fn send_bytes(
        &mut self,
        handle: i64,
        opcode: i32,
        payload: Vec<u8>,
        cap: i64,
    ) -> Result<i64, i32> {
        let object = self.endpoint(handle, RIGHT_WRITE)?;
        if payload.len() > MAX_PAYLOAD {
            return Err(E_TOO_LARGE);
        }
        if cap != NO_CAP {
            let moved = self.cap(cap)?;
            if moved.rights & RIGHT_GRANT == 0 {
                return Err(E_NO_RIGHTS);
            }
            if moved.rights & RIGHT_READ != 0 && matches!(self.objects[moved.object], Object::Endpoint(_)) {
                return Err(E_NOT_MOVABLE);
            }
        }
        let endpoint = self.endpoint_mut(object);
        if endpoint.readers == 0 {
            return Err(E_CLOSED);
        }
        if endpoint.queue.len() >= endpoint.capacity {
            return Err(E_FULL);
        }
        let cap = if cap == NO_CAP { None } else { self.handles.remove(&cap) };
        self.endpoint_mut(object).queue.push_back(Message { opcode: opcode as u32, payload, cap });
        Ok(0)
    }

    pub(super) fn recv(&mut self, handle: i64, buf: &mut [u8], blocking: bool) -> Result<i64, i32> {
        let object = self.endpoint(handle, RIGHT_READ)?;
        let table_full = self.handles.len() >= MAX_HANDLES;
        let endpoint = self.endpoint_mut(object);
        let Some(message) = endpoint.queue.front() else {
            return Err(if endpoint.writers == 0 {
                E_CLOSED
            } else {
                assert!(!blocking, "sys_cap_recv would block forever: no other actor here");
                E_EMPTY
            });
        };
        if buf.len() < RECV_HEADER + message.payload.len() {
            if let Some(head) = buf.get_mut(..RECV_HEADER) {
                head.copy_from_slice(&header(message, NO_CAP));
            }
            return Err(E_BUFFER_TOO_SMALL);
        }
        if message.cap.is_some() && table_full {
            return Err(E_TOO_MANY_HANDLES);
        }
        let mut message = endpoint.queue.pop_front().expect("checked above");
        let cap = match message.cap.take() {
            Some(cap) => self.install(cap)?,
            None => NO_CAP,
        };
        buf[..RECV_HEADER].copy_from_slice(&header(&message, cap));
        buf[RECV_HEADER..][..message.payload.len()].copy_from_slice(&message.payload);
        Ok(PID)
    }

    pub(super) fn readiness(&self, handle: i64, interest: u32) -> u32 {
        let endpoint = match self.handles.get(&handle).map(|cap| &self.objects[cap.object]) {
            Some(Object::Endpoint(endpoint)) => endpoint,
            _ => return READY_INVALID,
        };
        let wanted = interest & (READABLE | WRITABLE);
        let mut ready = 0;
        if !endpoint.queue.is_empty() {
            ready |= READABLE;
        }
        if endpoint.queue.len() < endpoint.capacity {
            ready |= WRITABLE;
        }
        let closed = (interest & READABLE != 0 && endpoint.queue.is_empty() && endpoint.writers == 0)
            || (interest & WRITABLE != 0 && endpoint.readers == 0);
        if closed { wanted | READY_CLOSED } else { ready & wanted }
    }

    /// Refuses a new handle when the table is full.
    pub(super) fn room(&self) -> Result<(), i32> {
        if self.handles.len() >= MAX_HANDLES { Err(E_TOO_MANY_HANDLES) } else { Ok(()) }
    }

    pub(super) fn new_cap(&mut self, object: usize, rights: i32) -> Cap {
        if let Object::Endpoint(endpoint) = &mut self.objects[object] {
            endpoint.refs += 1;
            endpoint.readers += usize::from(rights & RIGHT_READ != 0);
            endpoint.writers += usize::from(rights & RIGHT_WRITE != 0);
        }
        Cap { object, rights }
    }

    pub(super) fn install(&mut self, cap: Cap) -> Result<i64, i32> {
        self.room()?;
        let handle = self.next_handle;
        self.next_handle += 1;
        self.handles.insert(handle, cap);
        Ok(handle)
    }

    /// Drops a capability; an endpoint nobody holds any more drops its queue, and with it the
    /// capabilities its messages carry.
    pub(super) fn release(&mut self, cap: Cap) {
        let Object::Endpoint(endpoint) = &mut self.objects[cap.object] else { return };
        endpoint.refs -= 1;
        endpoint.readers -= usize::from(cap.rights & RIGHT_READ != 0);
        endpoint.writers -= usize::from(cap.rights & RIGHT_WRITE != 0);
        if endpoint.refs == 0 {
            for message in core::mem::take(&mut endpoint.queue) {
                if let Some(cap) = message.cap {
                    self.release(cap);
                }
            }
        }
    }
}
