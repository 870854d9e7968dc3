//! Reading an ONNX token-classification graph and recovering its weights as plain f32
//! tensors with their Hugging Face names.
//!
//! Only the messages and fields the conversion needs are declared; protobuf skips the rest.
//! Quantized weights come in two shapes, both handled here:
//! - `DequantizeLinear` over an 8-bit table (the embeddings), named by the table's
//!   initializer with its `_quantized` suffix removed;
//! - `MatMulNBits` (domain `com.microsoft`) holding 4-bit blocks of a linear layer's
//!   weight, named by the bias its output is added to (`<layer>.bias` gives
//!   `<layer>.weight`).

use std::collections::{BTreeMap, HashMap};

use prost::Message;

/// A tensor recovered from the graph: row-major f32 values and their shape.
#[derive(Debug, Clone, PartialEq)]
pub struct DenseTensor {
    pub shape: Vec<usize>,
    pub values: Vec<f32>,
}

/// Why a graph could not be converted. Each names the tensor or node at fault.
#[derive(Debug, thiserror::Error)]
pub enum OnnxError {
    #[error("the file is not an ONNX model: {0}")]
    Decode(#[from] prost::DecodeError),
    #[error("the ONNX model has no graph")]
    NoGraph,
    #[error("tensor {name}: {message}")]
    Tensor { name: String, message: String },
    #[error("node {node} ({op_type}): {message}")]
    Node {
        node: String,
        op_type: String,
        message: String,
    },
}

/// Every weight of the graph, dequantized to f32, by Hugging Face name.
pub fn extract_weights(bytes: &[u8]) -> Result<BTreeMap<String, DenseTensor>, OnnxError> {
    let model = ModelProto::decode(bytes)?;
    let graph = model.graph.ok_or(OnnxError::NoGraph)?;
    let initializers: HashMap<&str, &TensorProto> = graph
        .initializer
        .iter()
        .map(|tensor| (tensor.name.as_str(), tensor))
        .collect();
    let constants: HashMap<&str, &TensorProto> = graph
        .node
        .iter()
        .filter(|node| node.op_type == "Constant")
        .filter_map(|node| {
            let value = node
                .attribute
                .iter()
                .find(|attribute| attribute.name == "value")?
                .t
                .as_ref()?;
            Some((node.output.first()?.as_str(), value))
        })
        .collect();
    let value_of = |name: &str| initializers.get(name).or_else(|| constants.get(name)).copied();

    let mut weights = BTreeMap::new();
    for tensor in &graph.initializer {
        let is_named_weight = tensor.name.ends_with(".weight") || tensor.name.ends_with(".bias");
        if is_named_weight && tensor.data_type == DATA_TYPE_FLOAT {
            weights.insert(tensor.name.clone(), dense(tensor)?);
        }
    }

    for node in &graph.node {
        match node.op_type.as_str() {
            "DequantizeLinear" => {
                let (name, tensor) = dequantize_linear(node, &graph.node, &value_of)?;
                weights.insert(name, tensor);
            }
            "MatMulNBits" => {
                let (name, tensor) = matmul_nbits(node, &graph.node, &value_of)?;
                weights.insert(name, tensor);
            }
            _ => {}
        }
    }
    Ok(weights)
}

const DATA_TYPE_FLOAT: i32 = 1;
const DATA_TYPE_UINT8: i32 = 2;
const DATA_TYPE_INT8: i32 = 3;
const DATA_TYPE_INT32: i32 = 6;

#[derive(Clone, PartialEq, Message)]
struct ModelProto {
    #[prost(message, optional, tag = "7")]
    graph: Option<GraphProto>,
}

#[derive(Clone, PartialEq, Message)]
struct GraphProto {
    #[prost(message, repeated, tag = "1")]
    node: Vec<NodeProto>,
    #[prost(message, repeated, tag = "5")]
    initializer: Vec<TensorProto>,
}

#[derive(Clone, PartialEq, Message)]
struct NodeProto {
    #[prost(string, repeated, tag = "1")]
    input: Vec<String>,
    #[prost(string, repeated, tag = "2")]
    output: Vec<String>,
    #[prost(string, tag = "3")]
    name: String,
    #[prost(string, tag = "4")]
    op_type: String,
    #[prost(message, repeated, tag = "5")]
    attribute: Vec<AttributeProto>,
}

#[derive(Clone, PartialEq, Message)]
struct AttributeProto {
    #[prost(string, tag = "1")]
    name: String,
    #[prost(int64, tag = "3")]
    i: i64,
    #[prost(message, optional, tag = "5")]
    t: Option<TensorProto>,
}

#[derive(Clone, PartialEq, Message)]
struct TensorProto {
    #[prost(int64, repeated, tag = "1")]
    dims: Vec<i64>,
    #[prost(int32, tag = "2")]
    data_type: i32,
    #[prost(float, repeated, tag = "4")]
    float_data: Vec<f32>,
    #[prost(int32, repeated, tag = "5")]
    int32_data: Vec<i32>,
    #[prost(string, tag = "8")]
    name: String,
    #[prost(bytes = "vec", tag = "9")]
    raw_data: Vec<u8>,
    #[prost(int32, tag = "14")]
    data_location: i32,
}

impl TensorProto {
    fn shape(&self) -> Result<Vec<usize>, OnnxError> {
        self.dims
            .iter()
            .map(|&dim| usize::try_from(dim).map_err(|_| self.error(format!("negative dimension {dim}"))))
            .collect()
    }

    fn element_count(&self) -> Result<usize, OnnxError> {
        Ok(self.shape()?.iter().product())
    }

    fn error(&self, message: impl Into<String>) -> OnnxError {
        OnnxError::Tensor {
            name: self.name.clone(),
            message: message.into(),
        }
    }

    /// Values of a float tensor.
    fn floats(&self) -> Result<Vec<f32>, OnnxError> {
        if self.data_location == 1 {
            return Err(self.error("stored in an external file, which is not supported"));
        }
        if self.data_type != DATA_TYPE_FLOAT {
            return Err(self.error(format!("expected float data, found type {}", self.data_type)));
        }
        let values: Vec<f32> = if self.raw_data.is_empty() {
            self.float_data.clone()
        } else {
            self.raw_data
                .chunks_exact(4)
                .map(|bytes| f32::from_le_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]))
                .collect()
        };
        self.check_count(values.len())?;
        Ok(values)
    }

    /// Values of an 8-bit tensor (signed or unsigned), widened.
    fn small_integers(&self) -> Result<Vec<i32>, OnnxError> {
        if self.data_location == 1 {
            return Err(self.error("stored in an external file, which is not supported"));
        }
        let values: Vec<i32> = match (self.data_type, self.raw_data.is_empty()) {
            (DATA_TYPE_UINT8, false) => self.raw_data.iter().map(|&byte| i32::from(byte)).collect(),
            (DATA_TYPE_INT8, false) => self.raw_data.iter().map(|&byte| i32::from(byte as i8)).collect(),
            (DATA_TYPE_UINT8 | DATA_TYPE_INT8 | DATA_TYPE_INT32, true) => self.int32_data.clone(),
            (other, _) => return Err(self.error(format!("expected 8-bit integer data, found type {other}"))),
        };
        self.check_count(values.len())?;
        Ok(values)
    }

    /// Raw bytes of a uint8 tensor, such as packed 4-bit weights.
    fn bytes(&self) -> Result<Vec<u8>, OnnxError> {
        if self.data_type != DATA_TYPE_UINT8 {
            return Err(self.error(format!("expected uint8 data, found type {}", self.data_type)));
        }
        let values = if self.raw_data.is_empty() {
            self.int32_data
                .iter()
                .map(|&value| u8::try_from(value).map_err(|_| self.error("value outside 0..=255")))
                .collect::<Result<Vec<u8>, _>>()?
        } else {
            self.raw_data.clone()
        };
        self.check_count(values.len())?;
        Ok(values)
    }

    fn check_count(&self, found: usize) -> Result<(), OnnxError> {
        let expected = self.element_count()?;
        if found == expected {
            Ok(())
        } else {
            Err(self.error(format!("holds {found} values where its shape needs {expected}")))
        }
    }
}

fn dense(tensor: &TensorProto) -> Result<DenseTensor, OnnxError> {
    Ok(DenseTensor {
        shape: tensor.shape()?,
        values: tensor.floats()?,
    })
}

fn node_error(node: &NodeProto, message: impl Into<String>) -> OnnxError {
    OnnxError::Node {
        node: node.name.clone(),
        op_type: node.op_type.clone(),
        message: message.into(),
    }
}

fn attribute(node: &NodeProto, name: &str) -> Option<i64> {
    node.attribute
        .iter()
        .find(|attribute| attribute.name == name)
        .map(|attribute| attribute.i)
}

/// `(q - zero_point) * scale` over a quantized table, per tensor or per axis.
fn dequantize_linear<'a>(
    node: &NodeProto,
    nodes: &[NodeProto],
    value_of: &dyn Fn(&str) -> Option<&'a TensorProto>,
) -> Result<(String, DenseTensor), OnnxError> {
    let input = node.input.first().ok_or_else(|| node_error(node, "has no input"))?;
    // The table is an initializer, either directly or behind the Gather that looks rows up
    // before dequantizing them.
    let table = value_of(input)
        .or_else(|| {
            let gather = nodes
                .iter()
                .find(|other| other.op_type == "Gather" && other.output.iter().any(|output| output == input))?;
            value_of(gather.input.first()?)
        })
        .ok_or_else(|| node_error(node, format!("its input {input} is not a stored table")))?;
    let name = table
        .name
        .strip_suffix("_quantized")
        .ok_or_else(|| node_error(node, format!("cannot name the weight of table {}", table.name)))?
        .to_owned();
    let scale_name = node.input.get(1).ok_or_else(|| node_error(node, "has no scale"))?;
    let scales = value_of(scale_name)
        .ok_or_else(|| node_error(node, format!("scale {scale_name} is not stored")))?
        .floats()?;
    let zero_points = match node.input.get(2).filter(|name| !name.is_empty()) {
        Some(zero_name) => value_of(zero_name)
            .ok_or_else(|| node_error(node, format!("zero point {zero_name} is not stored")))?
            .small_integers()?,
        None => vec![0],
    };
    let shape = table.shape()?;
    let quantized = table.small_integers()?;
    let values = if scales.len() == 1 {
        let zero = zero_points.first().copied().unwrap_or(0);
        quantized.iter().map(|&q| (q - zero) as f32 * scales[0]).collect()
    } else {
        let rank = shape.len() as i64;
        let axis = attribute(node, "axis").unwrap_or(1);
        let axis = usize::try_from(if axis < 0 { axis + rank } else { axis })
            .map_err(|_| node_error(node, format!("axis {axis} is out of range")))?;
        let axis_len = *shape
            .get(axis)
            .ok_or_else(|| node_error(node, format!("axis {axis} is out of range")))?;
        if scales.len() != axis_len || (zero_points.len() != 1 && zero_points.len() != axis_len) {
            return Err(node_error(
                node,
                "scale or zero point does not match the quantized axis",
            ));
        }
        let inner: usize = shape[axis + 1..].iter().product();
        quantized
            .iter()
            .enumerate()
            .map(|(index, &q)| {
                let channel = (index / inner) % axis_len;
                let zero = zero_points.get(channel).or(zero_points.first()).copied().unwrap_or(0);
                (q - zero) as f32 * scales[channel]
            })
            .collect()
    };
    Ok((name, DenseTensor { shape, values }))
}

/// A linear layer's weight from 4-bit blocks: `W[n, k] = (q - zero) * scale[n, k / block]`,
/// in the Hugging Face `[out, in]` layout.
fn matmul_nbits<'a>(
    node: &NodeProto,
    nodes: &[NodeProto],
    value_of: &dyn Fn(&str) -> Option<&'a TensorProto>,
) -> Result<(String, DenseTensor), OnnxError> {
    let dimension = |name: &str| {
        attribute(node, name)
            .and_then(|value| usize::try_from(value).ok())
            .filter(|&value| value > 0)
            .ok_or_else(|| node_error(node, format!("attribute {name} is missing or not positive")))
    };
    let (k, n, bits, block_size) = (
        dimension("K")?,
        dimension("N")?,
        dimension("bits")?,
        dimension("block_size")?,
    );
    if bits != 4 {
        return Err(node_error(
            node,
            format!("{bits}-bit weights are not supported, only 4-bit"),
        ));
    }
    let stored = |index: usize, what: &str| {
        let name = node
            .input
            .get(index)
            .filter(|name| !name.is_empty())
            .ok_or_else(|| node_error(node, format!("has no {what} input")))?;
        value_of(name).ok_or_else(|| node_error(node, format!("its {what} {name} is not stored")))
    };
    let packed = stored(1, "weight")?.bytes()?;
    let scales = stored(2, "scale")?.floats()?;
    let blocks = k.div_ceil(block_size);
    if packed.len() != n * blocks * block_size / 2 || scales.len() != n * blocks {
        return Err(node_error(
            node,
            "packed weight or scales do not match K, N and block_size",
        ));
    }
    let zero_points = match node.input.get(3).filter(|name| !name.is_empty()) {
        Some(_) => Some(stored(3, "zero point")?.bytes()?),
        None => None,
    };
    // Packed 4-bit zero points: one nibble per block, low nibble first, rows padded to a byte.
    let zero_bytes_per_row = blocks.div_ceil(2);
    let zero_of = |row: usize, block: usize| match &zero_points {
        None => 8,
        Some(bytes) => {
            let byte = bytes.get(row * zero_bytes_per_row + block / 2).copied().unwrap_or(0x88);
            if block.is_multiple_of(2) {
                i32::from(byte & 0x0F)
            } else {
                i32::from(byte >> 4)
            }
        }
    };
    let mut values = vec![0.0_f32; n * k];
    for row in 0..n {
        for column in 0..k {
            let block = column / block_size;
            let within = column % block_size;
            let byte = packed[(row * blocks + block) * block_size / 2 + within / 2];
            let q = if within.is_multiple_of(2) {
                byte & 0x0F
            } else {
                byte >> 4
            };
            values[row * k + column] = (i32::from(q) - zero_of(row, block)) as f32 * scales[row * blocks + block];
        }
    }

    // The output feeds an Add with `<layer>.bias`, which names the weight.
    let output = node.output.first().ok_or_else(|| node_error(node, "has no output"))?;
    let bias = nodes
        .iter()
        .filter(|other| other.op_type == "Add" && other.input.iter().any(|input| input == output))
        .flat_map(|add| add.input.iter())
        .find(|input| input.ends_with(".bias"))
        .ok_or_else(|| {
            node_error(
                node,
                "its output is not added to a named bias, so the weight has no name",
            )
        })?;
    let name = format!("{}.weight", bias.trim_end_matches(".bias"));
    Ok((
        name,
        DenseTensor {
            shape: vec![n, k],
            values,
        },
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tensor(name: &str, dims: &[i64], data_type: i32, raw: Vec<u8>) -> TensorProto {
        TensorProto {
            dims: dims.to_vec(),
            data_type,
            name: name.to_owned(),
            raw_data: raw,
            ..TensorProto::default()
        }
    }

    fn node(op_type: &str, name: &str, inputs: &[&str], outputs: &[&str], attributes: &[(&str, i64)]) -> NodeProto {
        NodeProto {
            input: inputs.iter().map(|input| (*input).to_owned()).collect(),
            output: outputs.iter().map(|output| (*output).to_owned()).collect(),
            name: name.to_owned(),
            op_type: op_type.to_owned(),
            attribute: attributes
                .iter()
                .map(|(name, value)| AttributeProto {
                    name: (*name).to_owned(),
                    i: *value,
                    t: None,
                })
                .collect(),
        }
    }

    fn floats(values: &[f32]) -> Vec<u8> {
        values.iter().flat_map(|value| value.to_le_bytes()).collect()
    }

    /// A graph with one 4-bit linear layer (2 outputs, 3 inputs, blocks of 2), one 8-bit
    /// embedding table behind a Gather, and a plain LayerNorm weight.
    fn graph() -> ModelProto {
        // Row 0: k = 0, 1 in block 0 (nibbles 9, 7), k = 2 in block 1 (nibble 12, padding 8).
        // Row 1: nibbles 8, 8 | 0, 8.
        let packed = vec![0x79, 0x8C, 0x88, 0x80];
        let mut zero = tensor("embed.weight_zero_point", &[], DATA_TYPE_UINT8, Vec::new());
        zero.int32_data = vec![128];
        let mut scale = tensor("embed.weight_scale", &[], DATA_TYPE_FLOAT, Vec::new());
        scale.float_data = vec![0.5];
        ModelProto {
            graph: Some(GraphProto {
                initializer: vec![
                    tensor("w_Q4", &[2, 2, 1], DATA_TYPE_UINT8, packed),
                    tensor("w_scales", &[2, 2], DATA_TYPE_FLOAT, floats(&[1.0, 2.0, 0.5, 0.25])),
                    tensor("layer.bias", &[2], DATA_TYPE_FLOAT, floats(&[0.0, 0.0])),
                    tensor("norm.weight", &[2], DATA_TYPE_FLOAT, floats(&[1.0, 1.5])),
                    tensor(
                        "embed.weight_quantized",
                        &[2, 2],
                        DATA_TYPE_UINT8,
                        vec![128, 130, 126, 255],
                    ),
                    scale,
                    zero,
                ],
                node: vec![
                    node(
                        "MatMulNBits",
                        "mm",
                        &["x", "w_Q4", "w_scales"],
                        &["mm_out"],
                        &[("K", 3), ("N", 2), ("bits", 4), ("block_size", 2)],
                    ),
                    node("Add", "add", &["layer.bias", "mm_out"], &["y"], &[]),
                    node("Gather", "gather", &["embed.weight_quantized", "ids"], &["rows_q"], &[]),
                    node(
                        "DequantizeLinear",
                        "dq",
                        &["rows_q", "embed.weight_scale", "embed.weight_zero_point"],
                        &["rows"],
                        &[],
                    ),
                ],
            }),
        }
    }

    #[test]
    fn weights_are_dequantized_and_named() {
        let bytes = graph().encode_to_vec();
        let weights = extract_weights(&bytes).unwrap();
        assert_eq!(
            weights.keys().collect::<Vec<_>>(),
            ["embed.weight", "layer.bias", "layer.weight", "norm.weight"]
        );
        let linear = &weights["layer.weight"];
        assert_eq!(linear.shape, [2, 3]);
        assert_eq!(linear.values, [1.0, -1.0, 8.0, 0.0, 0.0, -2.0]);
        let embedding = &weights["embed.weight"];
        assert_eq!(embedding.values, [0.0, 1.0, -1.0, 63.5]);
        assert_eq!(weights["norm.weight"].values, [1.0, 1.5]);
    }

    #[test]
    fn an_unnamed_weight_and_a_bad_size_are_errors_naming_the_node() {
        let mut model = graph();
        let graph = model.graph.as_mut().unwrap();
        graph.node.retain(|node| node.name != "add");
        let error = extract_weights(&model.encode_to_vec()).unwrap_err().to_string();
        assert!(error.contains("mm") && error.contains("named bias"), "{error}");

        let mut model = self::graph();
        model.graph.as_mut().unwrap().initializer[1].raw_data.pop();
        let error = extract_weights(&model.encode_to_vec()).unwrap_err().to_string();
        assert!(error.contains("w_scales"), "{error}");
        assert!(extract_weights(b"\xff\xff not protobuf").is_err());
    }
}
