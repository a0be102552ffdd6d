//! The kit's unit tests: the canteen cast is the one the vectors were made from.

use super::Scenario;

#[test]
fn the_canteen_cast_is_the_directory_of_the_vectors() {
    let vector: &[u8] = include_bytes!("../../tests/vectors/directories/canteen.cbor");
    assert_eq!(Scenario::canteen().directory.to_cbor(), vector);
}
