//! Status codes the `host` ABI functions return to the guest.

/// What a `host` import returns to the guest, as an `i32`.
///
/// The values are part of the ABI and never change.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[repr(i32)]
pub enum Status {
    /// The call did what it was asked.
    Ok = 0,
    /// A guest pointer and length do not fit in its linear memory.
    OutOfBounds = 1,
    /// `storage_get`: the key is not in the lookup store.
    NotFound = 2,
    /// The data is over a policy cap (response or log bytes).
    TooLarge = 3,
    /// `log`: the bytes are not UTF-8.
    BadUtf8 = 4,
    /// The guest's `alloc` trapped or returned a range outside its memory.
    AllocFailed = 5,
}

impl Status {
    /// Every status, in code order.
    pub const ALL: [Status; 6] = [Status::Ok, Status::OutOfBounds, Status::NotFound, Status::TooLarge, Status::BadUtf8, Status::AllocFailed];

    /// The code the guest sees.
    pub fn code(self) -> i32 {
        self as i32
    }

    /// The status with this code, if any.
    pub fn from_code(code: i32) -> Option<Status> {
        Status::ALL.into_iter().find(|status| status.code() == code)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_round_trip_and_unknown_codes_are_none() {
        for status in Status::ALL {
            assert_eq!(Status::from_code(status.code()), Some(status));
        }
        assert_eq!(Status::from_code(6), None);
        assert_eq!(Status::from_code(-1), None);
    }
}
