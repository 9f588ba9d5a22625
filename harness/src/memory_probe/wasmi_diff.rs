//! The same module on wasmi, an independent interpreter, for the differential
//! oracle. The `host` imports the layer's modules use (`read_request`,
//! `write_response`) are implemented here with the loader's semantics: the
//! same bounds checks, status codes, alloc protocol and response cap. wasmi
//! gets fuel and the policy's memory cap through its own `StoreLimits`.

use std::sync::OnceLock;

use wasmi::{Caller, Config, Engine, Extern, Linker, Module, Store, StoreLimits, StoreLimitsBuilder, TrapCode};

use loader::{Policy, Status, checked_range};

/// Fuel for one wasmi invocation: generous, since wasmi and wasmtime count
/// fuel differently and runs that exhaust it are skipped anyway.
pub const WASMI_FUEL: u64 = 20_000_000;

/// How a wasmi invocation ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum WasmiEnd {
    /// `main` returned.
    Ok,
    /// Instantiation or `main` trapped, with wasmi's trap message.
    Trap(String),
    /// Fuel, the stack or a resource limit ended it: not comparable.
    Limited(String),
}

/// What one wasmi invocation produced.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WasmiRun {
    /// How it ended.
    pub end: WasmiEnd,
    /// The last response written.
    pub response: Vec<u8>,
}

/// The store data of one wasmi invocation.
struct State {
    request: Vec<u8>,
    response: Vec<u8>,
    max_response_bytes: usize,
    limits: StoreLimits,
}

fn engine() -> &'static Engine {
    static ENGINE: OnceLock<Engine> = OnceLock::new();
    ENGINE.get_or_init(|| {
        let mut config = Config::default();
        config
            .consume_fuel(true)
            .wasm_multi_value(true)
            .wasm_bulk_memory(true)
            .wasm_sign_extension(true)
            .wasm_saturating_float_to_int(true)
            .wasm_mutable_global(true)
            .wasm_reference_types(false)
            .wasm_multi_memory(false)
            .wasm_tail_call(false)
            .wasm_extended_const(false)
            .wasm_custom_page_sizes(false)
            .wasm_memory64(false)
            .wasm_wide_arithmetic(false);
        Engine::new(&config)
    })
}

/// A module compiled for wasmi once, invoked any number of times.
pub struct WasmiModule {
    module: Module,
}

impl WasmiModule {
    /// Compiles `bytes`; an error means wasmi refuses a module the loader accepted.
    pub fn new(bytes: &[u8]) -> Result<WasmiModule, String> {
        Module::new(engine(), bytes).map(|module| WasmiModule { module }).map_err(|error| error.to_string())
    }

    /// Runs `main` once in a fresh store with `request`, under `policy`'s caps.
    pub fn invoke(&self, request: &[u8], policy: &Policy) -> WasmiRun {
        let limits = StoreLimitsBuilder::new()
            .memory_size(policy.max_memory_bytes)
            .table_elements(policy.max_table_elements)
            .instances(policy.max_instances)
            .tables(policy.max_tables)
            .memories(policy.max_memories)
            .build();
        let state = State {
            request: request.to_vec(),
            response: Vec::new(),
            max_response_bytes: policy.max_response_bytes,
            limits,
        };
        let mut store = Store::new(engine(), state);
        store.limiter(|state| &mut state.limits);
        let result = store.set_fuel(WASMI_FUEL).and_then(|()| {
            let instance = linker().instantiate_and_start(&mut store, &self.module)?;
            let main = instance.get_typed_func::<(), ()>(&store, "main")?;
            main.call(&mut store, ())
        });
        let end = match result {
            Ok(()) => WasmiEnd::Ok,
            Err(error) => match error.as_trap_code() {
                Some(TrapCode::OutOfFuel | TrapCode::StackOverflow | TrapCode::GrowthOperationLimited) => {
                    WasmiEnd::Limited(error.to_string())
                }
                _ => WasmiEnd::Trap(error.to_string()),
            },
        };
        WasmiRun { end, response: store.into_data().response }
    }
}

fn linker() -> Linker<State> {
    let mut linker = Linker::new(engine());
    // Defining two distinct names on a fresh linker cannot fail.
    let _ = linker.func_wrap("host", "read_request", |mut caller: Caller<'_, State>, ptr_ptr: i32, len_ptr: i32| {
        let request = caller.data().request.clone();
        place_in_guest(&mut caller, &request, ptr_ptr, len_ptr).map(Status::code)
    });
    let _ = linker.func_wrap("host", "write_response", |mut caller: Caller<'_, State>, ptr: i32, len: i32| {
        let Some(memory) = memory(&caller) else { return Ok(Status::OutOfBounds.code()) };
        let Some(range) = checked_range(ptr, len, memory.data_size(&caller)) else {
            return Ok(Status::OutOfBounds.code());
        };
        if range.len() > caller.data().max_response_bytes {
            return Ok(Status::TooLarge.code());
        }
        let bytes = memory.data(&caller).get(range).map(<[u8]>::to_vec).unwrap_or_default();
        caller.data_mut().response = bytes;
        Ok::<i32, wasmi::Error>(Status::Ok.code())
    });
    linker
}

fn memory(caller: &Caller<'_, State>) -> Option<wasmi::Memory> {
    match caller.get_export("memory") {
        Some(Extern::Memory(memory)) => Some(memory),
        _ => None,
    }
}

/// The loader's alloc protocol: check the out-slots, call `alloc`, check its
/// range against memory as it is after `alloc`, write data, then ptr, then len.
fn place_in_guest(caller: &mut Caller<'_, State>, bytes: &[u8], ptr_ptr: i32, len_ptr: i32) -> Result<Status, wasmi::Error> {
    let Some(memory) = memory(caller) else { return Ok(Status::OutOfBounds) };
    let size = memory.data_size(&*caller);
    if checked_range(ptr_ptr, 4, size).is_none() || checked_range(len_ptr, 4, size).is_none() {
        return Ok(Status::OutOfBounds);
    }
    let Ok(len) = i32::try_from(bytes.len()) else { return Ok(Status::TooLarge) };
    let Some(Extern::Func(alloc)) = caller.get_export("alloc") else { return Ok(Status::AllocFailed) };
    let alloc = alloc.typed::<i32, i32>(&*caller)?;
    let ptr = match alloc.call(&mut *caller, len) {
        Ok(ptr) => ptr,
        Err(error) if error.as_trap_code() == Some(TrapCode::OutOfFuel) => return Err(error),
        Err(_) => return Ok(Status::AllocFailed),
    };
    let Some(range) = checked_range(ptr, len, memory.data_size(&*caller)) else { return Ok(Status::AllocFailed) };
    let (ptr_slot, len_slot) = (ptr_ptr.cast_unsigned() as usize, len_ptr.cast_unsigned() as usize);
    let written = memory.write(&mut *caller, range.start, bytes).is_ok()
        && memory.write(&mut *caller, ptr_slot, &ptr.to_le_bytes()).is_ok()
        && memory.write(&mut *caller, len_slot, &len.to_le_bytes()).is_ok();
    Ok(if written { Status::Ok } else { Status::OutOfBounds })
}
