//! The framebuffer the firmware's Graphics Output Protocol set up, in the protocol's terms.
//! The current mode is kept: the protocol lets the loader choose, and the firmware's choice
//! already suits the display.

use alloc::vec::Vec;
use minimalos_loader::protocol::{FRAMEBUFFER_RGB, PixelLayout};
use uefi::boot::{self, OpenProtocolAttributes, OpenProtocolParams};
use uefi::proto::console::gop::{GraphicsOutput, ModeInfo, PixelFormat};

/// One display mode.
#[derive(Debug, Clone, Copy)]
pub struct Mode {
    pub width: u64,
    pub height: u64,
    pub pitch: u64,
    pub layout: PixelLayout,
}

/// The active framebuffer and the modes the display offers.
#[derive(Debug, Clone)]
pub struct Framebuffer {
    /// Physical address of the first pixel.
    pub address: u64,
    pub current: Mode,
    pub modes: Vec<Mode>,
}

impl Framebuffer {
    /// Bytes the visible screen spans.
    pub fn size(&self) -> u64 {
        self.current.pitch * self.current.height
    }
}

/// The GOP framebuffer, or `None` when there is no GOP or it only supports block transfers.
pub fn query() -> Option<Framebuffer> {
    let handle = boot::get_handle_for_protocol::<GraphicsOutput>().ok()?;
    let params = OpenProtocolParams { handle, agent: boot::image_handle(), controller: None };
    // SAFETY: opened without exclusivity so the firmware's own console keeps drawing; the
    // protocol is only read, and dropped (closed) before boot services end.
    let mut gop =
        unsafe { boot::open_protocol::<GraphicsOutput>(params, OpenProtocolAttributes::GetProtocol) }.ok()?;
    let current = mode(&gop.current_mode_info())?;
    let address = gop.frame_buffer().as_mut_ptr() as u64;
    let modes = gop.modes().filter_map(|m| mode(m.info())).collect();
    Some(Framebuffer { address, current, modes })
}

fn mode(info: &ModeInfo) -> Option<Mode> {
    let (red, green, blue, reserved) = match info.pixel_format() {
        PixelFormat::Rgb => (0xff, 0xff00, 0xff_0000, 0xff00_0000),
        PixelFormat::Bgr => (0xff_0000, 0xff00, 0xff, 0xff00_0000),
        PixelFormat::Bitmask => {
            let mask = info.pixel_bitmask()?;
            (mask.red, mask.green, mask.blue, mask.reserved)
        }
        PixelFormat::BltOnly => return None,
    };
    let bpp = (u32::BITS - (red | green | blue | reserved).leading_zeros()).next_multiple_of(8);
    let (width, height) = info.resolution();
    let field =
        |mask: u32| if mask == 0 { (0, 0) } else { (mask.count_ones() as u8, mask.trailing_zeros() as u8) };
    let (
        (red_mask_size, red_mask_shift),
        (green_mask_size, green_mask_shift),
        (blue_mask_size, blue_mask_shift),
    ) = (field(red), field(green), field(blue));
    Some(Mode {
        width: width as u64,
        height: height as u64,
        pitch: info.stride() as u64 * u64::from(bpp / 8),
        layout: PixelLayout {
            bpp: bpp as u16,
            memory_model: FRAMEBUFFER_RGB,
            red_mask_size,
            red_mask_shift,
            green_mask_size,
            green_mask_shift,
            blue_mask_size,
            blue_mask_shift,
        },
    })
}
