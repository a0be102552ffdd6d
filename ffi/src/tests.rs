use super::*;

fn last_error() -> String {
    let mut buf = ConsentryBuf::EMPTY;
    // SAFETY: `buf` is a valid ConsentryBuf.
    assert_eq!(
        unsafe { consentry_last_error(&mut buf) },
        ConsentryStatus::Ok
    );
    let text = if buf.ptr.is_null() {
        String::new()
    } else {
        // SAFETY: a non-empty buffer from the library holds `len` readable bytes.
        String::from_utf8(unsafe { std::slice::from_raw_parts(buf.ptr, buf.len) }.to_vec()).unwrap()
    };
    // SAFETY: `buf` came from the library.
    unsafe { consentry_buf_free(&mut buf) };
    text
}

#[test]
fn a_panic_becomes_a_status_and_a_message() {
    let status = guard(|| panic!("boom"));
    assert_eq!(status, ConsentryStatus::Panic);
    assert_eq!(last_error(), "internal error (panic): boom");
    // The next call clears it.
    assert_eq!(guard(|| Ok(ConsentryStatus::Ok)), ConsentryStatus::Ok);
    assert_eq!(last_error(), "");
}

#[test]
fn buffers_round_trip_and_reset() {
    let mut buf = ConsentryBuf::from_vec(b"hello".to_vec());
    assert_eq!(buf.len, 5);
    // SAFETY: `buf` came from the library; freeing resets it, so the second free is a no-op.
    unsafe {
        consentry_buf_free(&mut buf);
        consentry_buf_free(&mut buf);
        consentry_buf_free(std::ptr::null_mut());
    }
    assert!(buf.ptr.is_null() && buf.len == 0);
    assert!(ConsentryBuf::from_vec(Vec::new()).ptr.is_null());
}

#[test]
fn status_names_are_distinct_and_match_the_values() {
    let mut names = std::collections::HashSet::new();
    for (i, s) in ConsentryStatus::ALL.into_iter().enumerate() {
        assert_eq!(s as i32, i32::try_from(i).unwrap());
        // SAFETY: the function returns a static NUL-terminated string.
        let name = unsafe { CStr::from_ptr(consentry_status_name(s as i32)) };
        assert!(names.insert(name.to_owned()));
    }
    // SAFETY: as above.
    let unknown = unsafe { CStr::from_ptr(consentry_status_name(-3)) };
    assert_eq!(unknown, c"UNKNOWN");
    // SAFETY: as above.
    let version = unsafe { CStr::from_ptr(consentry_version()) };
    assert_eq!(version.to_str().unwrap(), env!("CARGO_PKG_VERSION"));
}

#[test]
fn json_errors_are_told_apart() {
    let syntax = from_json::<Vec<u32>>("{", "x").unwrap_err();
    assert_eq!(syntax.status, ConsentryStatus::InvalidJson);
    let shape = from_json::<Vec<u32>>("{}", "x").unwrap_err();
    assert_eq!(shape.status, ConsentryStatus::InvalidInput);
}

/// What `consentry_object_inspect` writes about every valid object of the test vectors is
/// exactly the committed JSON vector of its form (`tests/vectors/json/object-info/valid/`),
/// which `.ci/schemas.sh` checks against `docs/schemas/object-info.schema.json`.
#[test]
fn inspect_writes_the_committed_object_info_vectors() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/vectors");
    let index: serde_json::Value =
        serde_json::from_slice(&std::fs::read(root.join("json/index.json")).unwrap()).unwrap();
    let form = index["forms"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["form"] == "object-info")
        .unwrap();
    let mut checked = 0;
    for file in form["valid"].as_array().unwrap() {
        let file = file.as_str().unwrap();
        let name = file.rsplit('/').next().unwrap().trim_end_matches(".json");
        let object = std::fs::read(root.join(format!("objects/{name}.cbor"))).unwrap();
        let want: serde_json::Value =
            serde_json::from_slice(&std::fs::read(root.join(file)).unwrap()).unwrap();
        let mut out = ConsentryBuf::EMPTY;
        // SAFETY: `object` is readable for its length; `out` is a valid ConsentryBuf.
        let status = unsafe { consentry_object_inspect(object.as_ptr(), object.len(), &mut out) };
        assert_eq!(status, ConsentryStatus::Ok, "{name}");
        // SAFETY: a non-empty buffer from the library holds `len` readable bytes.
        let got: serde_json::Value =
            serde_json::from_slice(unsafe { std::slice::from_raw_parts(out.ptr, out.len) })
                .unwrap();
        // SAFETY: `out` came from the library.
        unsafe { consentry_buf_free(&mut out) };
        assert_eq!(got, want, "{name}");
        checked += 1;
    }
    assert!(checked >= 10, "{checked} objects");
}
