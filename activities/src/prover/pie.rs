//! Reader for Cairo PIE zip files (the format cairo-lang and cairo-vm write with
//! `CairoPie.to_file`), with only the parts that proving and fact computation need.

use std::collections::{BTreeMap, HashMap};
use std::io::{Cursor, Read};
use std::path::Path;

use serde::Deserialize;
use serde_json::value::RawValue;
use starknet_types_core::felt::Felt;

use super::error::PieError;

/// Names of the entries every Cairo PIE zip contains.
pub const PIE_ENTRIES: [&str; 5] = [
    METADATA_ENTRY,
    MEMORY_ENTRY,
    ADDITIONAL_DATA_ENTRY,
    EXECUTION_RESOURCES_ENTRY,
    VERSION_ENTRY,
];

const METADATA_ENTRY: &str = "metadata.json";
const MEMORY_ENTRY: &str = "memory.bin";
const ADDITIONAL_DATA_ENTRY: &str = "additional_data.json";
const EXECUTION_RESOURCES_ENTRY: &str = "execution_resources.json";
const VERSION_ENTRY: &str = "version.json";

/// Size of one `memory.bin` record: an 8-byte address followed by a 32-byte value, both
/// little-endian.
const MEMORY_CELL_BYTES: usize = 40;
/// Bits of an encoded address that carry the offset; the segment index sits above them and
/// bit 63 is always set.
const OFFSET_BITS: u32 = 47;
const OFFSET_MASK: u64 = (1 << OFFSET_BITS) - 1;
const SEGMENT_MASK: u64 = 0xffff;
const ADDRESS_FLAG: u64 = 1 << 63;

/// A memory address inside a Cairo run: segment index and offset.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Relocatable {
    /// Index of the memory segment.
    pub segment: u64,
    /// Offset inside the segment.
    pub offset: u64,
}

/// A value of Cairo memory: a field element or a pointer into another segment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MemoryValue {
    /// A field element.
    Felt(Felt),
    /// A pointer.
    Relocatable(Relocatable),
}

/// Program part of the PIE metadata, stripped of hints and identifiers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StrippedProgram {
    /// Bytecode.
    pub data: Vec<Felt>,
    /// Builtin names in declaration order, without the `_builtin` suffix (`output`, `pedersen`).
    pub builtins: Vec<String>,
    /// Program counter of the entry point.
    pub main: u64,
}

/// Location and size of one memory segment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
pub struct SegmentInfo {
    /// Segment index.
    pub index: u64,
    /// Number of cells used.
    pub size: u64,
}

/// One output page declared by the program through the output builtin.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OutputPage {
    /// Offset of the first felt of the page inside the program output.
    pub start: u64,
    /// Number of felts in the page.
    pub size: u64,
}

/// Additional data of the output builtin: output pages (page 0 is implicit) and attributes
/// such as `gps_fact_topology`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OutputBuiltinData {
    /// Pages 1 and above, by page id.
    pub pages: BTreeMap<u64, OutputPage>,
    /// Attributes by name.
    pub attributes: BTreeMap<String, Vec<u64>>,
}

/// Execution resources recorded for the run.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
pub struct ExecutionResources {
    /// Number of Cairo steps.
    pub n_steps: u64,
    /// Number of memory holes.
    #[serde(default)]
    pub n_memory_holes: u64,
    /// Number of instances used per builtin, keyed like `pedersen_builtin`.
    #[serde(default)]
    pub builtin_instance_counter: BTreeMap<String, u64>,
}

/// The contents of a Cairo PIE.
#[derive(Debug, Clone)]
pub struct CairoPie {
    /// The program that ran.
    pub program: StrippedProgram,
    /// Builtin segments by builtin name (`output`, `pedersen`, …).
    pub builtin_segments: BTreeMap<String, SegmentInfo>,
    /// Memory cells by address.
    pub memory: HashMap<Relocatable, MemoryValue>,
    /// Additional data of the output builtin, empty when the PIE records none.
    pub output_builtin: OutputBuiltinData,
    /// Execution resources.
    pub execution_resources: ExecutionResources,
    /// PIE format version from `version.json` (`cairo_pie`), such as `1.1`.
    pub version: String,
}

impl CairoPie {
    /// Reads a PIE zip from `path`.
    ///
    /// # Errors
    /// [`PieError::Io`] when the file cannot be read, otherwise the errors of
    /// [`CairoPie::from_zip_bytes`].
    pub fn read(path: &Path) -> Result<Self, PieError> {
        let bytes = std::fs::read(path).map_err(|source| PieError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        Self::from_zip_bytes(&bytes)
    }

    /// Parses a PIE from the bytes of its zip file.
    ///
    /// # Errors
    /// [`PieError::NotAZip`] when the bytes are not a zip archive, [`PieError::MissingEntry`]
    /// naming the first absent entry, and parse errors naming the entry at fault.
    pub fn from_zip_bytes(bytes: &[u8]) -> Result<Self, PieError> {
        let mut archive = open_archive(bytes)?;

        let metadata: RawMetadata = read_json_entry(&mut archive, METADATA_ENTRY)?;
        let memory_bytes = read_entry(&mut archive, MEMORY_ENTRY)?;
        let additional_data: RawAdditionalData =
            read_json_entry(&mut archive, ADDITIONAL_DATA_ENTRY)?;
        let execution_resources = read_json_entry(&mut archive, EXECUTION_RESOURCES_ENTRY)?;
        let version: RawVersion = read_json_entry(&mut archive, VERSION_ENTRY)?;

        Ok(Self {
            program: metadata.program.into_program()?,
            builtin_segments: metadata.builtin_segments,
            memory: parse_memory(&memory_bytes)?,
            output_builtin: additional_data
                .output_builtin
                .unwrap_or_default()
                .into_data()?,
            execution_resources,
            version: version.cairo_pie,
        })
    }

    /// Returns the memory cells of the output builtin segment, in order: the program output.
    ///
    /// # Errors
    /// [`PieError::NoOutputSegment`] when the program has no output builtin, and
    /// [`PieError::InvalidOutputCell`] when a cell is missing or is a pointer.
    pub fn program_output(&self) -> Result<Vec<Felt>, PieError> {
        let segment = self
            .builtin_segments
            .get("output")
            .ok_or(PieError::NoOutputSegment)?;
        (0..segment.size)
            .map(|offset| {
                let address = Relocatable {
                    segment: segment.index,
                    offset,
                };
                match self.memory.get(&address) {
                    Some(MemoryValue::Felt(value)) => Ok(*value),
                    Some(MemoryValue::Relocatable(_)) => Err(PieError::InvalidOutputCell {
                        offset,
                        reason: "it holds a pointer, not a felt",
                    }),
                    None => Err(PieError::InvalidOutputCell {
                        offset,
                        reason: "it is missing",
                    }),
                }
            })
            .collect()
    }
}

/// Reads only `execution_resources.json` from a PIE zip, which is much cheaper than parsing
/// the whole PIE when only the step count is needed.
///
/// # Errors
/// As [`CairoPie::from_zip_bytes`], for that one entry.
pub fn read_execution_resources(bytes: &[u8]) -> Result<ExecutionResources, PieError> {
    let mut archive = open_archive(bytes)?;
    read_json_entry(&mut archive, EXECUTION_RESOURCES_ENTRY)
}

type Archive<'a> = zip::ZipArchive<Cursor<&'a [u8]>>;

fn open_archive(bytes: &[u8]) -> Result<Archive<'_>, PieError> {
    zip::ZipArchive::new(Cursor::new(bytes)).map_err(|source| PieError::NotAZip {
        message: source.to_string(),
    })
}

fn read_entry(archive: &mut Archive<'_>, entry: &'static str) -> Result<Vec<u8>, PieError> {
    let mut file = match archive.by_name(entry) {
        Ok(file) => file,
        Err(zip::result::ZipError::FileNotFound) => return Err(PieError::MissingEntry { entry }),
        Err(source) => {
            return Err(PieError::InvalidEntry {
                entry,
                message: source.to_string(),
            });
        }
    };
    let mut contents = Vec::with_capacity(usize::try_from(file.size()).unwrap_or(0));
    file.read_to_end(&mut contents)
        .map_err(|source| PieError::InvalidEntry {
            entry,
            message: source.to_string(),
        })?;
    Ok(contents)
}

fn read_json_entry<T: serde::de::DeserializeOwned>(
    archive: &mut Archive<'_>,
    entry: &'static str,
) -> Result<T, PieError> {
    let contents = read_entry(archive, entry)?;
    serde_json::from_slice(&contents).map_err(|source| PieError::InvalidEntry {
        entry,
        message: source.to_string(),
    })
}

/// Decodes `memory.bin`: records of an address (u64 LE, bit 63 set, segment in bits 47..63,
/// offset below) and a value (32 bytes LE). A value whose bit 255 is set is a pointer, with
/// segment and offset packed into its low 8 bytes as in an address.
fn parse_memory(bytes: &[u8]) -> Result<HashMap<Relocatable, MemoryValue>, PieError> {
    if !bytes.len().is_multiple_of(MEMORY_CELL_BYTES) {
        return Err(PieError::InvalidEntry {
            entry: MEMORY_ENTRY,
            message: format!(
                "length {} is not a multiple of the {MEMORY_CELL_BYTES}-byte record size",
                bytes.len()
            ),
        });
    }

    let mut memory = HashMap::with_capacity(bytes.len() / MEMORY_CELL_BYTES);
    for (index, record) in bytes.chunks_exact(MEMORY_CELL_BYTES).enumerate() {
        let (address_bytes, value_bytes) = record.split_at(8);
        let address = decode_address(address_bytes).ok_or_else(|| PieError::InvalidEntry {
            entry: MEMORY_ENTRY,
            message: format!("record {index} has an address without the high bit set"),
        })?;

        let mut value = [0u8; 32];
        value.copy_from_slice(value_bytes);
        let value = if value[31] & 0x80 != 0 {
            MemoryValue::Relocatable(split_address(u64::from_le_bytes(pointer_bytes(&value))))
        } else {
            MemoryValue::Felt(Felt::from_bytes_le(&value))
        };
        memory.insert(address, value);
    }
    Ok(memory)
}

fn decode_address(bytes: &[u8]) -> Option<Relocatable> {
    let raw = u64::from_le_bytes(bytes.try_into().ok()?);
    (raw & ADDRESS_FLAG != 0).then(|| split_address(raw))
}

fn pointer_bytes(value: &[u8; 32]) -> [u8; 8] {
    let mut bytes = [0u8; 8];
    bytes.copy_from_slice(&value[..8]);
    bytes
}

fn split_address(raw: u64) -> Relocatable {
    Relocatable {
        segment: (raw >> OFFSET_BITS) & SEGMENT_MASK,
        offset: raw & OFFSET_MASK,
    }
}

#[derive(Deserialize)]
struct RawMetadata {
    program: RawProgram,
    #[serde(default)]
    builtin_segments: BTreeMap<String, SegmentInfo>,
}

/// Program data contains integers up to 2^252, beyond what serde_json parses exactly, so the
/// values are kept as raw JSON text and parsed as felts.
#[derive(Deserialize)]
struct RawProgram {
    data: Vec<Box<RawValue>>,
    builtins: Vec<String>,
    main: u64,
}

impl RawProgram {
    fn into_program(self) -> Result<StrippedProgram, PieError> {
        let data = self
            .data
            .iter()
            .enumerate()
            .map(|(index, raw)| {
                parse_felt(raw.get()).ok_or_else(|| PieError::InvalidEntry {
                    entry: METADATA_ENTRY,
                    message: format!("program data item {index} is not a felt: {}", raw.get()),
                })
            })
            .collect::<Result<_, _>>()?;
        Ok(StrippedProgram {
            data,
            builtins: self.builtins,
            main: self.main,
        })
    }
}

/// Parses a felt written as a JSON integer or as a JSON string in decimal or `0x` hex.
fn parse_felt(text: &str) -> Option<Felt> {
    let text = text.trim();
    let text = text
        .strip_prefix('"')
        .and_then(|t| t.strip_suffix('"'))
        .unwrap_or(text);
    if let Some(hex) = text.strip_prefix("0x") {
        Felt::from_hex(&format!("0x{hex}")).ok()
    } else if !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit()) {
        Felt::from_dec_str(text).ok()
    } else {
        None
    }
}

#[derive(Deserialize)]
struct RawAdditionalData {
    #[serde(default)]
    output_builtin: Option<RawOutputBuiltin>,
}

#[derive(Deserialize, Default)]
struct RawOutputBuiltin {
    #[serde(default)]
    pages: BTreeMap<String, Vec<u64>>,
    #[serde(default)]
    attributes: BTreeMap<String, Vec<u64>>,
}

impl RawOutputBuiltin {
    fn into_data(self) -> Result<OutputBuiltinData, PieError> {
        let invalid_page = |id: &str| PieError::InvalidEntry {
            entry: ADDITIONAL_DATA_ENTRY,
            message: format!("output page {id:?} is not a page id with [start, size]"),
        };
        let mut pages = BTreeMap::new();
        for (id, bounds) in &self.pages {
            let page_id: u64 = id.parse().map_err(|_| invalid_page(id))?;
            let [start, size] = bounds[..] else {
                return Err(invalid_page(id));
            };
            pages.insert(page_id, OutputPage { start, size });
        }
        Ok(OutputBuiltinData {
            pages,
            attributes: self.attributes,
        })
    }
}

#[derive(Deserialize)]
struct RawVersion {
    cairo_pie: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn address_decoding_splits_segment_and_offset() {
        let raw: u64 = ADDRESS_FLAG | (2 << OFFSET_BITS) | 5;
        let address = decode_address(&raw.to_le_bytes());
        assert_eq!(
            address,
            Some(Relocatable {
                segment: 2,
                offset: 5
            })
        );
    }

    #[test]
    fn address_without_flag_is_rejected() {
        assert_eq!(decode_address(&5u64.to_le_bytes()), None);
    }

    #[test]
    fn felt_parsing_accepts_decimal_and_hex() {
        assert_eq!(
            parse_felt("1226245742482522112"),
            Some(Felt::from(1226245742482522112u64))
        );
        assert_eq!(parse_felt("\"0x10\""), Some(Felt::from(16u8)));
        assert_eq!(parse_felt("-1"), None);
        assert_eq!(parse_felt("1.5"), None);
    }

    #[test]
    fn non_zip_bytes_are_rejected() {
        let error = CairoPie::from_zip_bytes(b"not a zip").unwrap_err();
        assert!(
            matches!(error, PieError::NotAZip { .. }),
            "unexpected error: {error}"
        );
    }

    #[test]
    fn missing_entry_is_named() {
        let mut bytes = Vec::new();
        {
            let mut writer = zip::ZipWriter::new(Cursor::new(&mut bytes));
            let options = zip::write::SimpleFileOptions::default();
            writer.start_file(METADATA_ENTRY, options).unwrap();
            std::io::Write::write_all(
                &mut writer,
                br#"{"program":{"data":[],"builtins":[],"main":0}}"#,
            )
            .unwrap();
            writer.finish().unwrap();
        }
        let error = CairoPie::from_zip_bytes(&bytes).unwrap_err();
        assert!(
            matches!(
                error,
                PieError::MissingEntry {
                    entry: MEMORY_ENTRY
                }
            ),
            "unexpected error: {error}"
        );
        assert!(error.to_string().contains("memory.bin"), "message: {error}");
    }
}
