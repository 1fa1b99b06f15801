//! Walking the top level of a protobuf message without decoding it.
//!
//! The loader needs the string table before it can make sense of anything,
//! and Go writes that table last; walking the fields lets it take the strings
//! as slices of the input, count samples before allocating for them, report
//! progress and notice cancellation, and say at which byte a profile ends
//! early. Elements below the top level are small and go to prost.

/// The payload of one field.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub(crate) enum Value<'a> {
    Varint(u64),
    Fixed64(u64),
    Fixed32(u32),
    Bytes(&'a [u8]),
}

/// One top-level field.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub(crate) struct Field<'a> {
    pub(crate) number: u32,
    /// Byte offset of the field's key.
    pub(crate) offset: usize,
    pub(crate) value: Value<'a>,
}

/// Why the walk stopped early.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct WireError {
    /// Byte offset of the key of the field that could not be read.
    pub(crate) offset: usize,
    /// Field number, when the key was readable.
    pub(crate) field: Option<u32>,
    pub(crate) kind: WireErrorKind,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum WireErrorKind {
    /// The data ends inside this field.
    Truncated,
    /// A varint longer than ten bytes.
    BadVarint,
    /// Wire types 3 and 4 (groups, unused since proto2) or 6 and 7 (undefined).
    BadWireType(u8),
    /// Field number 0.
    BadFieldNumber,
}

/// Iterator over the top-level fields of a message; stops after the first error.
pub(crate) struct Fields<'a> {
    data: &'a [u8],
    pos: usize,
    failed: bool,
}

impl<'a> Fields<'a> {
    pub(crate) fn new(data: &'a [u8]) -> Fields<'a> {
        Fields {
            data,
            pos: 0,
            failed: false,
        }
    }

    /// Byte offset of the next field.
    pub(crate) fn pos(&self) -> usize {
        self.pos
    }

    fn read_field(&mut self) -> Result<Field<'a>, WireError> {
        let offset = self.pos;
        let err = |field, kind| WireError {
            offset,
            field,
            kind,
        };
        let key = read_varint(self.data, &mut self.pos).map_err(|k| err(None, k))?;
        let number =
            u32::try_from(key >> 3).map_err(|_| err(None, WireErrorKind::BadFieldNumber))?;
        if number == 0 {
            return Err(err(None, WireErrorKind::BadFieldNumber));
        }
        let wire = (key & 7) as u8;
        let field = Some(number);
        let value = match wire {
            0 => Value::Varint(read_varint(self.data, &mut self.pos).map_err(|k| err(field, k))?),
            1 => {
                let bytes = self
                    .take(8)
                    .ok_or_else(|| err(field, WireErrorKind::Truncated))?;
                let mut b = [0u8; 8];
                b.copy_from_slice(bytes);
                Value::Fixed64(u64::from_le_bytes(b))
            }
            2 => {
                let len = read_varint(self.data, &mut self.pos).map_err(|k| err(field, k))?;
                let len = usize::try_from(len).map_err(|_| err(field, WireErrorKind::Truncated))?;
                Value::Bytes(
                    self.take(len)
                        .ok_or_else(|| err(field, WireErrorKind::Truncated))?,
                )
            }
            5 => {
                let bytes = self
                    .take(4)
                    .ok_or_else(|| err(field, WireErrorKind::Truncated))?;
                let mut b = [0u8; 4];
                b.copy_from_slice(bytes);
                Value::Fixed32(u32::from_le_bytes(b))
            }
            w => return Err(err(field, WireErrorKind::BadWireType(w))),
        };
        Ok(Field {
            number,
            offset,
            value,
        })
    }

    fn take(&mut self, len: usize) -> Option<&'a [u8]> {
        let end = self.pos.checked_add(len)?;
        let bytes = self.data.get(self.pos..end)?;
        self.pos = end;
        Some(bytes)
    }
}

impl<'a> Iterator for Fields<'a> {
    type Item = Result<Field<'a>, WireError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.failed || self.pos >= self.data.len() {
            return None;
        }
        let field = self.read_field();
        self.failed = field.is_err();
        Some(field)
    }
}

/// Reads a base-128 varint at `*pos`, advancing it.
pub(crate) fn read_varint(data: &[u8], pos: &mut usize) -> Result<u64, WireErrorKind> {
    let mut value = 0u64;
    for i in 0..10 {
        let &byte = data.get(*pos).ok_or(WireErrorKind::Truncated)?;
        *pos += 1;
        value |= u64::from(byte & 0x7f) << (7 * i);
        if byte < 0x80 {
            return Ok(value);
        }
    }
    Err(WireErrorKind::BadVarint)
}

/// Decodes a packed run of varints, as `repeated int64` uses on the wire.
pub(crate) fn packed_varints(data: &[u8]) -> Result<Vec<u64>, WireErrorKind> {
    let mut out = Vec::new();
    let mut pos = 0;
    while pos < data.len() {
        out.push(read_varint(data, &mut pos)?);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn walks_fields_and_stops_at_a_cut() {
        // field 1 varint 150, field 6 "ab", field 6 cut short.
        let data = [0x08, 0x96, 0x01, 0x32, 0x02, b'a', b'b', 0x32, 0x05, b'x'];
        let mut fields = Fields::new(&data);
        assert_eq!(
            fields.next(),
            Some(Ok(Field {
                number: 1,
                offset: 0,
                value: Value::Varint(150)
            }))
        );
        assert_eq!(
            fields.next(),
            Some(Ok(Field {
                number: 6,
                offset: 3,
                value: Value::Bytes(b"ab")
            }))
        );
        let err = fields.next().and_then(Result::err);
        assert_eq!(
            err,
            Some(WireError {
                offset: 7,
                field: Some(6),
                kind: WireErrorKind::Truncated
            })
        );
        assert_eq!(fields.next(), None);
    }

    #[test]
    fn rejects_overlong_varints_and_groups() {
        let data = [0xff; 12];
        let mut pos = 0;
        assert_eq!(read_varint(&data, &mut pos), Err(WireErrorKind::BadVarint));
        let group = [0x0b];
        let err = Fields::new(&group).next().and_then(Result::err);
        assert_eq!(err.map(|e| e.kind), Some(WireErrorKind::BadWireType(3)));
        assert_eq!(packed_varints(&[0x01, 0x96, 0x01]), Ok(vec![1, 150]));
    }
}
