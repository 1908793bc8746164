//! code_engine._native: two CPU-bound helpers, written against the raw CPython API
//! (pyo3-ffi), whose items are the same in pyo3-ffi 0.17 (Debian 12) and 0.22 (Debian 13).
use pyo3_ffi::*;
use std::os::raw::c_char;
use std::ptr;

fn is_start(b: u8) -> bool {
    b == b'_' || b.is_ascii_alphabetic()
}

fn is_cont(b: u8) -> bool {
    b == b'_' || b.is_ascii_alphanumeric()
}

/// Number of identifier-like tokens ([A-Za-z_][A-Za-z0-9_]*) in UTF-8 text.
pub fn count_tokens_impl(s: &[u8]) -> usize {
    let (mut i, mut n) = (0, 0);
    while i < s.len() {
        if is_start(s[i]) {
            n += 1;
            i += 1;
            while i < s.len() && is_cont(s[i]) {
                i += 1;
            }
        } else {
            i += 1;
        }
    }
    n
}

/// 64-bit FNV-1a checksum of bytes.
pub fn fnv1a64_impl(s: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for &b in s {
        h ^= b as u64;
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h
}

unsafe extern "C" fn count_tokens(_module: *mut PyObject, arg: *mut PyObject) -> *mut PyObject {
    let mut size: Py_ssize_t = 0;
    // raises TypeError for a non-str argument
    let data = PyUnicode_AsUTF8AndSize(arg, &mut size);
    if data.is_null() {
        return ptr::null_mut();
    }
    let bytes = std::slice::from_raw_parts(data as *const u8, size as usize);
    PyLong_FromSize_t(count_tokens_impl(bytes))
}

unsafe extern "C" fn fnv1a64(_module: *mut PyObject, arg: *mut PyObject) -> *mut PyObject {
    let mut data: *mut c_char = ptr::null_mut();
    let mut size: Py_ssize_t = 0;
    // raises TypeError for a non-bytes argument
    if PyBytes_AsStringAndSize(arg, &mut data, &mut size) < 0 {
        return ptr::null_mut();
    }
    let bytes = std::slice::from_raw_parts(data as *const u8, size as usize);
    PyLong_FromUnsignedLongLong(fnv1a64_impl(bytes))
}

/// The module's entry point: CPython calls it once on `import code_engine._native`.
#[no_mangle]
pub unsafe extern "C" fn PyInit__native() -> *mut PyObject {
    let methods: &'static mut [PyMethodDef] = Box::leak(Box::new([
        PyMethodDef {
            ml_name: b"count_tokens\0".as_ptr() as *const c_char,
            ml_meth: PyMethodDefPointer { PyCFunction: count_tokens },
            ml_flags: METH_O,
            ml_doc: b"count_tokens(text: str) -> int: identifier-like tokens in text\0".as_ptr()
                as *const c_char,
        },
        PyMethodDef {
            ml_name: b"fnv1a64\0".as_ptr() as *const c_char,
            ml_meth: PyMethodDefPointer { PyCFunction: fnv1a64 },
            ml_flags: METH_O,
            ml_doc: b"fnv1a64(data: bytes) -> int: 64-bit FNV-1a checksum\0".as_ptr()
                as *const c_char,
        },
        PyMethodDef::zeroed(),
    ]));
    let def: &'static mut PyModuleDef = Box::leak(Box::new(PyModuleDef {
        m_base: PyModuleDef_HEAD_INIT,
        m_name: b"_native\0".as_ptr() as *const c_char,
        m_doc: b"Native helpers for code_engine.\0".as_ptr() as *const c_char,
        m_size: 0,
        m_methods: methods.as_mut_ptr(),
        m_slots: ptr::null_mut(),
        m_traverse: None,
        m_clear: None,
        m_free: None,
    }));
    PyModule_Create(def)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens() {
        assert_eq!(count_tokens_impl(b"def f(x_1): return x_1 + 2"), 5);
    }

    #[test]
    fn fnv() {
        assert_eq!(fnv1a64_impl(b""), 0xcbf29ce484222325);
        assert_eq!(fnv1a64_impl(b"a"), 0xaf63dc4c8601ec8c);
    }
}
