//! The subset of Go's `encoding/gob` stream format that the net/rpc calls of
//! this crate need.
//!
//! Format summary (from the `encoding/gob` package documentation):
//!
//! * Unsigned integers below 128 are one byte; larger ones are a byte holding
//!   the negated byte count followed by the big-endian value without leading
//!   zero bytes. Signed integers are shifted left by one, with the low bit
//!   saying "complement the rest". Floats are the byte-reversed IEEE bits sent
//!   as an unsigned integer. Strings and byte slices are a length and the raw
//!   bytes.
//! * A stream is a sequence of messages, each prefixed with its byte length.
//!   A message starts with a signed type id: a negative id `-t` introduces the
//!   definition of type `t` (a `wireType` value), a positive id is followed by
//!   a value of that type. Definitions are sent once per stream, before the
//!   first value that needs them.
//! * A struct value is a list of (field number delta, field value) pairs ended
//!   by a zero delta; fields holding their zero value are left out. A value
//!   whose type is not a struct is sent as a one-field struct: a zero byte
//!   followed by the value.
//! * Slices, arrays and maps are an element count followed by the elements
//!   (map entries as key then value), without field numbers.
//!
//! Decoding is defensive: every count is checked against the bytes left in
//! the message, nesting is bounded and the number of type definitions a peer
//! may send is capped, so hostile input yields an error and never a panic or
//! an outsized allocation.

use std::collections::HashMap;

/// Ids of the types every gob stream knows without a definition.
pub(crate) const T_BOOL: i64 = 1;
pub(crate) const T_INT: i64 = 2;
pub(crate) const T_UINT: i64 = 3;
pub(crate) const T_FLOAT: i64 = 4;
pub(crate) const T_BYTES: i64 = 5;
pub(crate) const T_STRING: i64 = 6;
pub(crate) const T_COMPLEX: i64 = 7;
pub(crate) const T_INTERFACE: i64 = 8;

/// Smallest id a stream may define; lower ids are reserved by gob.
pub(crate) const FIRST_USER_ID: i64 = 64;

/// How deeply composite values may nest before decoding gives up.
const MAX_DEPTH: usize = 64;

/// How many type definitions one stream may carry.
const MAX_TYPES: usize = 1024;

/// A malformed or unsupported gob stream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct GobError(pub String);

impl GobError {
    fn new(msg: impl Into<String>) -> Self {
        GobError(msg.into())
    }
}

pub(crate) type Result<T> = std::result::Result<T, GobError>;

// ---------------------------------------------------------------------------
// Primitive encoding

/// Appends an unsigned integer.
pub(crate) fn put_uint(out: &mut Vec<u8>, v: u64) {
    if v < 0x80 {
        out.push(v as u8);
        return;
    }
    let be = v.to_be_bytes();
    let skip = be.iter().take_while(|b| **b == 0).count();
    let len = be.len() - skip;
    // The count byte is the two's complement of the length (-1 .. -8).
    out.push((len as u8).wrapping_neg());
    out.extend_from_slice(&be[skip..]);
}

/// Appends a signed integer.
pub(crate) fn put_int(out: &mut Vec<u8>, v: i64) {
    let u = if v < 0 {
        ((!v as u64) << 1) | 1
    } else {
        (v as u64) << 1
    };
    put_uint(out, u);
}

/// Appends a string or byte slice: its length, then the bytes.
pub(crate) fn put_bytes(out: &mut Vec<u8>, b: &[u8]) {
    put_uint(out, b.len() as u64);
    out.extend_from_slice(b);
}

/// Appends `body` as one delimited message (length prefix, then body).
pub(crate) fn put_message(out: &mut Vec<u8>, body: &[u8]) {
    put_uint(out, body.len() as u64);
    out.extend_from_slice(body);
}

/// Writes the fields of one struct value, turning absolute field numbers into
/// the deltas the format uses.
pub(crate) struct StructWriter<'a> {
    out: &'a mut Vec<u8>,
    last: i64,
}

impl<'a> StructWriter<'a> {
    pub(crate) fn new(out: &'a mut Vec<u8>) -> Self {
        StructWriter { out, last: -1 }
    }

    /// Starts field `n`; the caller then appends the field's value. Fields
    /// must be started in increasing order.
    pub(crate) fn field(&mut self, n: i64) -> &mut Vec<u8> {
        debug_assert!(n > self.last, "struct fields out of order");
        put_uint(self.out, (n - self.last) as u64);
        self.last = n;
        self.out
    }

    /// Writes the end-of-struct mark.
    pub(crate) fn finish(self) {
        put_uint(self.out, 0);
    }
}

// ---------------------------------------------------------------------------
// Primitive decoding

/// A cursor over one message.
pub(crate) struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    pub(crate) fn new(buf: &'a [u8]) -> Self {
        Reader { buf, pos: 0 }
    }

    pub(crate) fn remaining(&self) -> usize {
        self.buf.len() - self.pos
    }

    fn byte(&mut self) -> Result<u8> {
        let b = *self
            .buf
            .get(self.pos)
            .ok_or_else(|| GobError::new("gob data ends in the middle of a value"))?;
        self.pos += 1;
        Ok(b)
    }

    fn take(&mut self, n: usize) -> Result<&'a [u8]> {
        if n > self.remaining() {
            return Err(GobError::new(format!(
                "gob length {n} exceeds the {} bytes left in the message",
                self.remaining()
            )));
        }
        let s = &self.buf[self.pos..self.pos + n];
        self.pos += n;
        Ok(s)
    }

    pub(crate) fn uint(&mut self) -> Result<u64> {
        let first = self.byte()?;
        if first < 0x80 {
            return Ok(u64::from(first));
        }
        let len = usize::from(first.wrapping_neg());
        if len > 8 {
            return Err(GobError::new(format!(
                "invalid gob integer length byte {first:#04x}"
            )));
        }
        let mut v: u64 = 0;
        for b in self.take(len)? {
            v = (v << 8) | u64::from(*b);
        }
        Ok(v)
    }

    pub(crate) fn int(&mut self) -> Result<i64> {
        let u = self.uint()?;
        let magnitude = (u >> 1) as i64;
        Ok(if u & 1 == 1 { !magnitude } else { magnitude })
    }

    fn float(&mut self) -> Result<f64> {
        Ok(f64::from_bits(self.uint()?.swap_bytes()))
    }

    /// Reads a length-prefixed string or byte slice.
    pub(crate) fn bytes(&mut self) -> Result<&'a [u8]> {
        let n = self.uint()?;
        let n = usize::try_from(n).map_err(|_| GobError::new("gob length overflows"))?;
        self.take(n)
    }

    /// Reads an element count. Every encoded element takes at least one
    /// byte, so a count larger than what is left is necessarily corrupt.
    fn count(&mut self) -> Result<usize> {
        let n = self.uint()?;
        match usize::try_from(n) {
            Ok(n) if n <= self.remaining() => Ok(n),
            _ => Err(GobError::new(format!(
                "gob element count {n} exceeds the {} bytes left in the message",
                self.remaining()
            ))),
        }
    }

    /// Reads a field delta and returns the new absolute field number, or
    /// `None` at the end-of-struct mark.
    fn next_field(&mut self, current: i64, field_count: usize) -> Result<Option<usize>> {
        let delta = self.uint()?;
        if delta == 0 {
            return Ok(None);
        }
        let n = i64::try_from(delta)
            .ok()
            .and_then(|d| current.checked_add(d))
            .and_then(|n| usize::try_from(n).ok())
            .filter(|n| *n < field_count)
            .ok_or_else(|| GobError::new(format!("gob field delta {delta} is out of range")))?;
        Ok(Some(n))
    }
}

// ---------------------------------------------------------------------------
// Type definitions

/// Which of the three "encoded by the type itself" kinds an opaque type is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum OpaqueKind {
    GobEncoder,
    BinaryMarshaler,
    TextMarshaler,
}

/// A type definition as carried by gob's `wireType`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum WireType {
    Array {
        name: String,
        id: i64,
        elem: i64,
        len: i64,
    },
    Slice {
        name: String,
        id: i64,
        elem: i64,
    },
    Struct {
        name: String,
        id: i64,
        fields: Vec<(String, i64)>,
    },
    Map {
        name: String,
        id: i64,
        key: i64,
        elem: i64,
    },
    /// Types that encode themselves (GobEncoder, BinaryMarshaler,
    /// TextMarshaler); their values travel as byte slices.
    Opaque {
        name: String,
        id: i64,
        kind: OpaqueKind,
    },
}

// Field numbers of gob's wireType struct.
const WT_ARRAY: i64 = 0;
const WT_SLICE: i64 = 1;
const WT_STRUCT: i64 = 2;
const WT_MAP: i64 = 3;
const WT_GOB_ENCODER: i64 = 4;
const WT_BINARY_MARSHALER: i64 = 5;
const WT_TEXT_MARSHALER: i64 = 6;
const WT_FIELDS: usize = 7;

/// Appends the encoding of a CommonType {Name string; Id int} as field 0 of
/// the enclosing struct.
fn put_common(w: &mut StructWriter<'_>, name: &str, id: i64) {
    let out = w.field(0);
    let mut common = StructWriter::new(out);
    if !name.is_empty() {
        put_bytes(common.field(0), name.as_bytes());
    }
    if id != 0 {
        put_int(common.field(1), id);
    }
    common.finish();
}

/// Appends the `wireType` value describing `wt`.
pub(crate) fn put_wire_type(out: &mut Vec<u8>, wt: &WireType) {
    let mut outer = StructWriter::new(out);
    match wt {
        WireType::Array {
            name,
            id,
            elem,
            len,
        } => {
            let mut s = StructWriter::new(outer.field(WT_ARRAY));
            put_common(&mut s, name, *id);
            put_int(s.field(1), *elem);
            if *len != 0 {
                put_int(s.field(2), *len);
            }
            s.finish();
        }
        WireType::Slice { name, id, elem } => {
            let mut s = StructWriter::new(outer.field(WT_SLICE));
            put_common(&mut s, name, *id);
            put_int(s.field(1), *elem);
            s.finish();
        }
        WireType::Struct { name, id, fields } => {
            let mut s = StructWriter::new(outer.field(WT_STRUCT));
            put_common(&mut s, name, *id);
            if !fields.is_empty() {
                let list = s.field(1);
                put_uint(list, fields.len() as u64);
                for (field_name, field_id) in fields {
                    let mut f = StructWriter::new(list);
                    put_bytes(f.field(0), field_name.as_bytes());
                    put_int(f.field(1), *field_id);
                    f.finish();
                }
            }
            s.finish();
        }
        WireType::Map {
            name,
            id,
            key,
            elem,
        } => {
            let mut s = StructWriter::new(outer.field(WT_MAP));
            put_common(&mut s, name, *id);
            put_int(s.field(1), *key);
            put_int(s.field(2), *elem);
            s.finish();
        }
        WireType::Opaque { name, id, kind } => {
            let n = match kind {
                OpaqueKind::GobEncoder => WT_GOB_ENCODER,
                OpaqueKind::BinaryMarshaler => WT_BINARY_MARSHALER,
                OpaqueKind::TextMarshaler => WT_TEXT_MARSHALER,
            };
            let mut s = StructWriter::new(outer.field(n));
            put_common(&mut s, name, *id);
            s.finish();
        }
    }
    outer.finish();
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// Reads a CommonType struct value.
fn read_common(r: &mut Reader<'_>) -> Result<(String, i64)> {
    let (mut name, mut id) = (String::new(), 0);
    let mut field = -1;
    while let Some(n) = r.next_field(field, 2)? {
        match n {
            0 => name = text(r.bytes()?),
            _ => id = r.int()?,
        }
        field = n as i64;
    }
    Ok((name, id))
}

/// Reads a struct made of a CommonType (field 0) followed by up to
/// `extra` signed-integer fields, as used by the array, slice and map types.
fn read_common_and_ints<const N: usize>(r: &mut Reader<'_>) -> Result<(String, i64, [i64; N])> {
    let (mut name, mut id, mut ints) = (String::new(), 0, [0i64; N]);
    let mut field = -1;
    while let Some(n) = r.next_field(field, N + 1)? {
        if n == 0 {
            (name, id) = read_common(r)?;
        } else {
            ints[n - 1] = r.int()?;
        }
        field = n as i64;
    }
    Ok((name, id, ints))
}

fn read_struct_type(r: &mut Reader<'_>) -> Result<WireType> {
    let (mut name, mut id, mut fields) = (String::new(), 0, Vec::new());
    let mut field = -1;
    while let Some(n) = r.next_field(field, 2)? {
        if n == 0 {
            (name, id) = read_common(r)?;
        } else {
            let count = r.count()?;
            fields = Vec::with_capacity(count);
            for _ in 0..count {
                let (mut field_name, mut field_id) = (String::new(), 0);
                let mut f = -1;
                while let Some(m) = r.next_field(f, 2)? {
                    match m {
                        0 => field_name = text(r.bytes()?),
                        _ => field_id = r.int()?,
                    }
                    f = m as i64;
                }
                fields.push((field_name, field_id));
            }
        }
        field = n as i64;
    }
    Ok(WireType::Struct { name, id, fields })
}

/// Reads a `wireType` value.
pub(crate) fn read_wire_type(r: &mut Reader<'_>) -> Result<WireType> {
    let mut found: Option<WireType> = None;
    let mut field = -1;
    while let Some(n) = r.next_field(field, WT_FIELDS)? {
        let wt = match n as i64 {
            WT_ARRAY => {
                let (name, id, [elem, len]) = read_common_and_ints::<2>(r)?;
                WireType::Array {
                    name,
                    id,
                    elem,
                    len,
                }
            }
            WT_SLICE => {
                let (name, id, [elem]) = read_common_and_ints::<1>(r)?;
                WireType::Slice { name, id, elem }
            }
            WT_STRUCT => read_struct_type(r)?,
            WT_MAP => {
                let (name, id, [key, elem]) = read_common_and_ints::<2>(r)?;
                WireType::Map {
                    name,
                    id,
                    key,
                    elem,
                }
            }
            other => {
                let (name, id, []) = read_common_and_ints::<0>(r)?;
                let kind = match other {
                    WT_GOB_ENCODER => OpaqueKind::GobEncoder,
                    WT_BINARY_MARSHALER => OpaqueKind::BinaryMarshaler,
                    _ => OpaqueKind::TextMarshaler,
                };
                WireType::Opaque { name, id, kind }
            }
        };
        if found.is_some() {
            return Err(GobError::new(
                "gob type definition describes more than one kind",
            ));
        }
        found = Some(wt);
        field = n as i64;
    }
    found.ok_or_else(|| GobError::new("empty gob type definition"))
}

// ---------------------------------------------------------------------------
// Values

/// A field value extracted from a decoded struct. Composite values are
/// checked and skipped, not kept.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Scalar {
    Bool(bool),
    Int(i64),
    Uint(u64),
    Float(f64),
    /// A string or a byte slice.
    Bytes(Vec<u8>),
    /// Anything else (kept only as "present").
    Other,
}

/// A decoded top-level value.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Value {
    /// A struct: the fields that were present, by name, in stream order.
    Struct(Vec<(String, Scalar)>),
    /// A value of any other type (already skipped).
    Other,
}

impl Value {
    /// Looks a field up by name.
    pub(crate) fn field(&self, name: &str) -> Option<&Scalar> {
        match self {
            Value::Struct(fields) => fields.iter().find(|(n, _)| n == name).map(|(_, v)| v),
            Value::Other => None,
        }
    }
}

/// The type definitions received on one stream, and the decoder that uses
/// them.
#[derive(Debug, Default)]
pub(crate) struct TypeTable {
    types: HashMap<i64, WireType>,
}

impl TypeTable {
    pub(crate) fn new() -> Self {
        TypeTable::default()
    }

    fn define(&mut self, id: i64, wt: WireType) -> Result<()> {
        if id < FIRST_USER_ID {
            return Err(GobError::new(format!("gob type id {id} is reserved")));
        }
        if self.types.contains_key(&id) {
            return Err(GobError::new(format!("gob type {id} defined twice")));
        }
        if self.types.len() >= MAX_TYPES {
            return Err(GobError::new("too many gob type definitions on one stream"));
        }
        self.types.insert(id, wt);
        Ok(())
    }

    /// Handles one message. Returns `None` for a type definition and the
    /// value otherwise. Bytes after a value are ignored, as Go's decoder does.
    pub(crate) fn message(&mut self, msg: &[u8]) -> Result<Option<Value>> {
        let mut r = Reader::new(msg);
        let id = r.int()?;
        if id < 0 {
            let id = id
                .checked_neg()
                .ok_or_else(|| GobError::new("gob type id out of range"))?;
            let wt = read_wire_type(&mut r)?;
            if r.remaining() != 0 {
                return Err(GobError::new("extra data after a gob type definition"));
            }
            self.define(id, wt)?;
            return Ok(None);
        }
        self.top_value(id, &mut r).map(Some)
    }

    fn top_value(&self, id: i64, r: &mut Reader<'_>) -> Result<Value> {
        if let Some(WireType::Struct { fields, .. }) = self.types.get(&id) {
            let mut out = Vec::new();
            let mut field = -1;
            while let Some(n) = r.next_field(field, fields.len())? {
                let (name, type_id) = &fields[n];
                let v = self.scalar(*type_id, r)?;
                out.push((name.clone(), v));
                field = n as i64;
            }
            return Ok(Value::Struct(out));
        }
        // Anything that is not a struct travels as a one-field struct.
        if r.uint()? != 0 {
            return Err(GobError::new(
                "corrupt gob value: non-zero delta before a single value",
            ));
        }
        self.skip(id, r, 0)?;
        Ok(Value::Other)
    }

    fn scalar(&self, id: i64, r: &mut Reader<'_>) -> Result<Scalar> {
        Ok(match id {
            T_BOOL => match r.uint()? {
                0 => Scalar::Bool(false),
                1 => Scalar::Bool(true),
                v => return Err(GobError::new(format!("invalid gob bool {v}"))),
            },
            T_INT => Scalar::Int(r.int()?),
            T_UINT => Scalar::Uint(r.uint()?),
            T_FLOAT => Scalar::Float(r.float()?),
            T_BYTES | T_STRING => Scalar::Bytes(r.bytes()?.to_vec()),
            _ => {
                self.skip(id, r, 1)?;
                Scalar::Other
            }
        })
    }

    /// Walks over a value of type `id` without keeping it.
    fn skip(&self, id: i64, r: &mut Reader<'_>, depth: usize) -> Result<()> {
        if depth > MAX_DEPTH {
            return Err(GobError::new("gob value nested too deeply"));
        }
        match id {
            T_BOOL | T_INT | T_UINT | T_FLOAT => {
                r.uint()?;
            }
            T_BYTES | T_STRING => {
                r.bytes()?;
            }
            T_COMPLEX => {
                r.uint()?;
                r.uint()?;
            }
            T_INTERFACE => {
                // Concrete type name; empty for a nil interface.
                if r.bytes()?.is_empty() {
                    return Ok(());
                }
                if r.int()? < 0 {
                    return Err(GobError::new(
                        "gob type definitions inside interface values are not supported",
                    ));
                }
                // The concrete value is length-delimited; skip it whole.
                let n = r.count()?;
                r.take(n)?;
            }
            _ => {
                let wt = self
                    .types
                    .get(&id)
                    .ok_or_else(|| GobError::new(format!("unknown gob type id {id}")))?;
                match wt {
                    WireType::Array { elem, len, .. } => {
                        let n = r.count()?;
                        if i64::try_from(n).ok() != Some(*len) {
                            return Err(GobError::new(format!(
                                "gob array of length {len} holds {n} elements"
                            )));
                        }
                        for _ in 0..n {
                            self.skip(*elem, r, depth + 1)?;
                        }
                    }
                    WireType::Slice { elem, .. } => {
                        for _ in 0..r.count()? {
                            self.skip(*elem, r, depth + 1)?;
                        }
                    }
                    WireType::Map { key, elem, .. } => {
                        for _ in 0..r.count()? {
                            self.skip(*key, r, depth + 1)?;
                            self.skip(*elem, r, depth + 1)?;
                        }
                    }
                    WireType::Struct { fields, .. } => {
                        let mut field = -1;
                        while let Some(n) = r.next_field(field, fields.len())? {
                            self.skip(fields[n].1, r, depth + 1)?;
                            field = n as i64;
                        }
                    }
                    WireType::Opaque { .. } => {
                        r.bytes()?;
                    }
                }
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn uint_bytes(v: u64) -> Vec<u8> {
        let mut out = Vec::new();
        put_uint(&mut out, v);
        out
    }

    fn int_bytes(v: i64) -> Vec<u8> {
        let mut out = Vec::new();
        put_int(&mut out, v);
        out
    }

    #[test]
    fn integers_match_the_documented_examples() {
        assert_eq!(uint_bytes(0), [0x00]);
        assert_eq!(uint_bytes(7), [0x07]);
        assert_eq!(uint_bytes(256), [0xFE, 0x01, 0x00]);
        assert_eq!(int_bytes(-129), [0xFE, 0x01, 0x01]);
        assert_eq!(int_bytes(22), [0x2C]);
        assert_eq!(int_bytes(-65), [0xFF, 0x81]);
        // 17.0 is sent as the byte-reversed float bits: FE 31 40.
        let mut r = Reader::new(&[0xFE, 0x31, 0x40]);
        assert_eq!(r.float(), Ok(17.0));
    }

    #[test]
    fn integers_round_trip() {
        for v in [0u64, 1, 127, 128, 255, 256, 65535, 1 << 40, u64::MAX] {
            let b = uint_bytes(v);
            assert_eq!(Reader::new(&b).uint(), Ok(v), "{v}");
        }
        for v in [0i64, 1, -1, 63, -64, 64, 1 << 40, i64::MIN, i64::MAX] {
            let b = int_bytes(v);
            assert_eq!(Reader::new(&b).int(), Ok(v), "{v}");
        }
    }

    #[test]
    fn bad_integers_are_errors() {
        // Length byte 0x80 would mean 128 bytes.
        assert!(Reader::new(&[0x80, 1, 2]).uint().is_err());
        // Says two bytes follow, only one does.
        assert!(Reader::new(&[0xFE, 0x01]).uint().is_err());
        assert!(Reader::new(&[]).uint().is_err());
    }

    /// The worked example of the encoding/gob documentation: the definition
    /// of `type Point struct {X, Y int}` (id 65) followed by Point{22, 33}.
    #[test]
    fn decodes_the_documented_point_example() {
        let stream: &[u8] = &[
            0x1f, 0xff, 0x81, 0x03, 0x01, 0x01, 0x05, 0x50, 0x6f, 0x69, 0x6e, 0x74, 0x01, 0xff,
            0x82, 0x00, 0x01, 0x02, 0x01, 0x01, 0x58, 0x01, 0x04, 0x00, 0x01, 0x01, 0x59, 0x01,
            0x04, 0x00, 0x00, 0x00, 0x07, 0xff, 0x82, 0x01, 0x2c, 0x01, 0x42, 0x00,
        ];
        let mut table = TypeTable::new();
        let mut r = Reader::new(stream);
        let first = r.bytes().unwrap();
        assert_eq!(table.message(first), Ok(None));
        let second = r.bytes().unwrap();
        let v = table.message(second).unwrap().unwrap();
        assert_eq!(v.field("X"), Some(&Scalar::Int(22)));
        assert_eq!(v.field("Y"), Some(&Scalar::Int(33)));
        assert_eq!(r.remaining(), 0);

        // Our encoder produces the same definition bytes.
        let point = WireType::Struct {
            name: "Point".into(),
            id: 65,
            fields: vec![("X".into(), T_INT), ("Y".into(), T_INT)],
        };
        let mut body = Vec::new();
        put_int(&mut body, -65);
        put_wire_type(&mut body, &point);
        assert_eq!(body, first);
    }

    #[test]
    fn wire_types_round_trip() {
        let all = [
            WireType::Array {
                name: "[3]int".into(),
                id: 70,
                elem: T_INT,
                len: 3,
            },
            WireType::Slice {
                name: "[]string".into(),
                id: 71,
                elem: T_STRING,
            },
            WireType::Struct {
                name: "Empty".into(),
                id: 72,
                fields: vec![],
            },
            WireType::Struct {
                name: String::new(),
                id: 73,
                fields: vec![("A".into(), T_BYTES), ("B".into(), 71)],
            },
            WireType::Map {
                name: "Header".into(),
                id: 74,
                key: T_STRING,
                elem: 71,
            },
            WireType::Opaque {
                name: "Time".into(),
                id: 75,
                kind: OpaqueKind::BinaryMarshaler,
            },
            WireType::Opaque {
                name: "G".into(),
                id: 76,
                kind: OpaqueKind::GobEncoder,
            },
            WireType::Opaque {
                name: "T".into(),
                id: 77,
                kind: OpaqueKind::TextMarshaler,
            },
        ];
        for wt in all {
            let mut b = Vec::new();
            put_wire_type(&mut b, &wt);
            let mut r = Reader::new(&b);
            assert_eq!(read_wire_type(&mut r).as_ref(), Ok(&wt));
            assert_eq!(r.remaining(), 0);
        }
    }

    fn define(table: &mut TypeTable, id: i64, wt: WireType) {
        let mut body = Vec::new();
        put_int(&mut body, -id);
        put_wire_type(&mut body, &wt);
        assert_eq!(table.message(&body), Ok(None));
    }

    #[test]
    fn skips_composite_fields_and_keeps_scalars() {
        let mut t = TypeTable::new();
        define(
            &mut t,
            65,
            WireType::Slice {
                name: String::new(),
                id: 65,
                elem: T_STRING,
            },
        );
        define(
            &mut t,
            66,
            WireType::Map {
                name: String::new(),
                id: 66,
                key: T_STRING,
                elem: 65,
            },
        );
        define(
            &mut t,
            67,
            WireType::Struct {
                name: "R".into(),
                id: 67,
                fields: vec![
                    ("H".into(), 66),
                    ("Any".into(), T_INTERFACE),
                    ("Code".into(), T_INT),
                    ("Body".into(), T_BYTES),
                ],
            },
        );
        let mut v = Vec::new();
        put_int(&mut v, 67);
        let mut s = StructWriter::new(&mut v);
        let m = s.field(0);
        put_uint(m, 1);
        put_bytes(m, b"k");
        put_uint(m, 2);
        put_bytes(m, b"a");
        put_bytes(m, b"b");
        let i = s.field(1);
        put_bytes(i, b"main.T");
        put_int(i, 99);
        put_bytes(i, &[1, 2, 3]);
        put_int(s.field(2), -5);
        put_bytes(s.field(3), b"xyz");
        s.finish();
        let got = t.message(&v).unwrap().unwrap();
        assert_eq!(got.field("H"), Some(&Scalar::Other));
        assert_eq!(got.field("Code"), Some(&Scalar::Int(-5)));
        assert_eq!(got.field("Body"), Some(&Scalar::Bytes(b"xyz".to_vec())));
    }

    #[test]
    fn rejects_hostile_definitions_and_values() {
        let mut t = TypeTable::new();
        // Reserved id.
        let mut body = Vec::new();
        put_int(&mut body, -20);
        put_wire_type(
            &mut body,
            &WireType::Slice {
                name: String::new(),
                id: 20,
                elem: 6,
            },
        );
        assert!(t.message(&body).is_err());
        // Duplicate definition.
        define(
            &mut t,
            65,
            WireType::Slice {
                name: String::new(),
                id: 65,
                elem: 65,
            },
        );
        let mut dup = Vec::new();
        put_int(&mut dup, -65);
        put_wire_type(
            &mut dup,
            &WireType::Slice {
                name: String::new(),
                id: 65,
                elem: 6,
            },
        );
        assert!(t.message(&dup).is_err());
        // A self-referential slice nested beyond the depth limit.
        define(
            &mut t,
            66,
            WireType::Struct {
                name: "W".into(),
                id: 66,
                fields: vec![("S".into(), 65)],
            },
        );
        let mut deep = Vec::new();
        put_int(&mut deep, 66);
        deep.push(1);
        deep.extend(std::iter::repeat_n(1u8, 200));
        deep.extend(std::iter::repeat_n(0u8, 201));
        assert!(t.message(&deep).is_err());
        // A huge element count.
        let mut huge = Vec::new();
        put_int(&mut huge, 66);
        huge.push(1);
        put_uint(&mut huge, 1 << 60);
        assert!(t.message(&huge).is_err());
        // Unknown type id for a value.
        let mut unknown = Vec::new();
        put_int(&mut unknown, 500);
        unknown.push(0);
        assert!(t.message(&unknown).is_err());
        // Field number beyond the struct's fields.
        let mut far = Vec::new();
        put_int(&mut far, 66);
        far.extend([5, 0]);
        assert!(t.message(&far).is_err());
    }

    #[test]
    fn random_input_never_panics() {
        // Deterministic xorshift so failures are reproducible.
        let mut state: u64 = 0x9E37_79B9_7F4A_7C15;
        let mut next = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        let mut t = TypeTable::new();
        define(
            &mut t,
            65,
            WireType::Slice {
                name: String::new(),
                id: 65,
                elem: 65,
            },
        );
        define(
            &mut t,
            66,
            WireType::Struct {
                name: "S".into(),
                id: 66,
                fields: vec![
                    ("A".into(), 65),
                    ("B".into(), T_INTERFACE),
                    ("C".into(), T_STRING),
                ],
            },
        );
        for round in 0..20_000 {
            let len = (next() % 64) as usize;
            let mut msg: Vec<u8> = (0..len).map(|_| next() as u8).collect();
            // Bias half of the inputs towards known type ids.
            if round % 2 == 0 && !msg.is_empty() {
                msg[0] = if round % 4 == 0 { 0x84 } else { 0x83 };
            }
            let _ = t.message(&msg);
        }
    }
}
