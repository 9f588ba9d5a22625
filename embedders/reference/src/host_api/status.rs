//! The status codes of the `host` ABI, as its documentation lists them.

/// What a `host` function returns to the guest.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Status {
    /// 0: the call did what it was asked.
    Ok = 0,
    /// 1: a guest pointer and length do not fit in its linear memory.
    OutOfBounds = 1,
    /// 2: the key is not in the lookup store.
    NotFound = 2,
    /// 3: the data is over a policy cap.
    TooLarge = 3,
    /// 4: log bytes that are not UTF-8.
    BadUtf8 = 4,
    /// 5: the guest's `alloc` trapped or returned a range outside its memory.
    AllocFailed = 5,
}

impl Status {
    /// The code the guest sees.
    pub fn code(self) -> i32 {
        self as i32
    }

    /// The status with this code, if any.
    pub fn from_code(code: i32) -> Option<Status> {
        [Status::Ok, Status::OutOfBounds, Status::NotFound, Status::TooLarge, Status::BadUtf8, Status::AllocFailed]
            .into_iter()
            .find(|status| status.code() == code)
    }
}
