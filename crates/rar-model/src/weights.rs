//! A model's weights as bytes (`rar.models.weights`), read without running
//! anything they hold.
//!
//! Weights are written as [safetensors](https://github.com/huggingface/safetensors):
//! a JSON header naming each tensor's type, shape and byte range, then the
//! raw numbers. Models saved by rar 0.1.0 and 0.2.0 before this format are
//! libtorch archives (a zip of the tensors' storages, a pickle naming them,
//! and TorchScript code); libtorch loads those by running their code, which
//! anyone who may write the model's row could have replaced. They are read
//! here without libtorch: the pickle by a small interpreter that knows only
//! the few operations and names that archive uses, the storages as raw
//! little-endian floats; the code is never read.
//!
//! Either way a tensor is taken only into a variable of the network built
//! from the model's settings, of exactly its shape: bytes that name other
//! tensors, other shapes or other types are an error, and nothing is
//! allocated beyond the network itself.

use std::collections::{BTreeMap, HashMap};
use std::io::Read;
use std::rc::Rc;

use safetensors::tensor::{Dtype, SafeTensors, TensorView};
use tch::{nn, Device, Kind, Tensor};

use crate::train::TrainError;

fn bad(what: impl std::fmt::Display) -> TrainError {
    TrainError::Torch(format!("the model's weights are damaged: {what}"))
}

/// The variables of `vs` as safetensors bytes.
pub fn save(vs: &nn::VarStore) -> Result<Vec<u8>, TrainError> {
    let vars: BTreeMap<String, Tensor> = vs.variables().into_iter().collect();
    let mut data: Vec<(String, Vec<usize>, Vec<u8>)> = Vec::with_capacity(vars.len());
    for (name, t) in vars {
        let t = t.to_device(Device::Cpu).to_kind(Kind::Float).contiguous();
        let shape: Vec<usize> = t.size().iter().map(|&d| d as usize).collect();
        let values: Vec<f32> = Vec::<f32>::try_from(t.flatten(0, -1))?;
        let bytes: Vec<u8> = values.iter().flat_map(|v| v.to_le_bytes()).collect();
        data.push((name, shape, bytes));
    }
    let views = data
        .iter()
        .map(|(name, shape, bytes)| {
            TensorView::new(Dtype::F32, shape.clone(), bytes)
                .map(|v| (name.as_str(), v))
                .map_err(|e| bad(format!("{e:?}")))
        })
        .collect::<Result<Vec<_>, _>>()?;
    safetensors::tensor::serialize(views, &None).map_err(|e| TrainError::Torch(format!("{e:?}")))
}

/// Copies the tensors of `bytes` (safetensors, or a legacy libtorch
/// archive) into the variables of `vs`: every variable, each of its own
/// shape, and nothing else.
pub fn load(vs: &mut nn::VarStore, bytes: &[u8]) -> Result<(), TrainError> {
    let tensors = if bytes.starts_with(b"PK\x03\x04") { legacy::read(bytes)? } else { read_safetensors(bytes)? };
    let mut vars = vs.variables();
    if tensors.len() != vars.len() {
        return Err(bad(format!("{} tensors for a network of {}", tensors.len(), vars.len())));
    }
    tch::no_grad(|| {
        for (name, (shape, values)) in tensors {
            let var = vars.get_mut(&name).ok_or_else(|| bad(format!("no variable {name:?} in this network")))?;
            let want: Vec<usize> = var.size().iter().map(|&d| d as usize).collect();
            if want != shape || values.len() != shape.iter().product::<usize>() {
                return Err(bad(format!("{name:?} has shape {shape:?}, the network's is {want:?}")));
            }
            let src = Tensor::from_slice(&values).view(var.size().as_slice()).to_device(var.device());
            var.copy_(&src);
        }
        Ok(())
    })
}

/// Name, shape and values of each tensor.
type Tensors = HashMap<String, (Vec<usize>, Vec<f32>)>;

fn floats(bytes: &[u8]) -> Vec<f32> {
    bytes.chunks_exact(4).map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]])).collect()
}

fn read_safetensors(bytes: &[u8]) -> Result<Tensors, TrainError> {
    let st = SafeTensors::deserialize(bytes)
        .map_err(|e| bad(format!("they are neither safetensors nor a libtorch archive ({e:?})")))?;
    let mut out = Tensors::new();
    for (name, view) in st.tensors() {
        if view.dtype() != Dtype::F32 {
            return Err(bad(format!("{name:?} is {:?}, not 32-bit floats", view.dtype())));
        }
        out.insert(name, (view.shape().to_vec(), floats(view.data())));
    }
    Ok(out)
}

/// The libtorch archives of rar before safetensors, read without libtorch.
mod legacy {
    use super::*;

    /// The values the archive's pickle builds (shared, so that a memo
    /// fetched many times costs nothing).
    #[derive(Debug)]
    enum Value {
        Mark,
        Int(i64),
        Bool,
        Str(String),
        Tuple(Vec<Rc<Value>>),
        Dict(Vec<(Rc<Value>, Rc<Value>)>),
        /// One of the few names the archive refers to.
        Global(Known),
        /// A storage: its entry in the archive and its number of floats.
        Storage {
            key: String,
            numel: i64,
        },
        Tensor {
            key: String,
            numel: i64,
            offset: i64,
            size: Vec<i64>,
            stride: Vec<i64>,
        },
        /// The module, with its state once built.
        Module(Vec<(Rc<Value>, Rc<Value>)>),
        EmptyOrderedDict,
    }

    #[derive(Debug, Clone, Copy, PartialEq)]
    enum Known {
        Module,
        RebuildTensor,
        FloatStorage,
        OrderedDict,
    }

    fn known(module: &str, name: &str) -> Result<Known, TrainError> {
        match (module, name) {
            ("__torch__", "Module") => Ok(Known::Module),
            ("torch._utils", "_rebuild_tensor_v2") => Ok(Known::RebuildTensor),
            ("torch", "FloatStorage") => Ok(Known::FloatStorage),
            ("collections", "OrderedDict") => Ok(Known::OrderedDict),
            _ => Err(bad(format!("it names {module}.{name}"))),
        }
    }

    fn ints(v: &Value) -> Result<Vec<i64>, TrainError> {
        match v {
            Value::Tuple(t) => t
                .iter()
                .map(|x| match **x {
                    Value::Int(i) => Ok(i),
                    _ => Err(bad("a size that is not a number")),
                })
                .collect(),
            _ => Err(bad("a size that is not a tuple")),
        }
    }

    /// Runs the pickle `p` (protocol 2, the operations libtorch writes) to
    /// the module it builds.
    fn unpickle(p: &[u8]) -> Result<Vec<(Rc<Value>, Rc<Value>)>, TrainError> {
        let mut stack: Vec<Rc<Value>> = Vec::new();
        let mut memo: HashMap<u32, Rc<Value>> = HashMap::new();
        let mut at = 0usize;
        let take = |at: &mut usize, n: usize| -> Result<&[u8], TrainError> {
            let s = p.get(*at..*at + n).ok_or_else(|| bad("the pickle ends early"))?;
            *at += n;
            Ok(s)
        };
        let line = |at: &mut usize| -> Result<String, TrainError> {
            let end = p[*at..].iter().position(|&b| b == b'\n').ok_or_else(|| bad("the pickle ends early"))?;
            let s = std::str::from_utf8(&p[*at..*at + end]).map_err(|_| bad("a name that is not UTF-8"))?.to_string();
            *at += end + 1;
            Ok(s)
        };
        let pop = |stack: &mut Vec<Rc<Value>>| stack.pop().ok_or_else(|| bad("the pickle's stack is empty"));
        let to_mark = |stack: &mut Vec<Rc<Value>>| -> Result<Vec<Rc<Value>>, TrainError> {
            let m = stack.iter().rposition(|v| matches!(**v, Value::Mark)).ok_or_else(|| bad("no mark"))?;
            let items = stack.split_off(m + 1);
            stack.pop();
            Ok(items)
        };
        loop {
            let op = *take(&mut at, 1)?.first().unwrap_or(&0);
            match op {
                0x80 => {
                    take(&mut at, 1)?;
                }
                b'c' => {
                    let (module, name) = (line(&mut at)?, line(&mut at)?);
                    stack.push(Rc::new(Value::Global(known(&module, &name)?)));
                }
                b'q' => {
                    let k = take(&mut at, 1)?[0] as u32;
                    memo.insert(k, stack.last().cloned().ok_or_else(|| bad("nothing to memo"))?);
                }
                b'r' => {
                    let b = take(&mut at, 4)?;
                    let k = u32::from_le_bytes([b[0], b[1], b[2], b[3]]);
                    memo.insert(k, stack.last().cloned().ok_or_else(|| bad("nothing to memo"))?);
                }
                b'h' => {
                    let k = take(&mut at, 1)?[0] as u32;
                    stack.push(memo.get(&k).cloned().ok_or_else(|| bad("an unknown memo"))?);
                }
                b'j' => {
                    let b = take(&mut at, 4)?;
                    let k = u32::from_le_bytes([b[0], b[1], b[2], b[3]]);
                    stack.push(memo.get(&k).cloned().ok_or_else(|| bad("an unknown memo"))?);
                }
                b')' => stack.push(Rc::new(Value::Tuple(Vec::new()))),
                b'}' => stack.push(Rc::new(Value::Dict(Vec::new()))),
                b'(' => stack.push(Rc::new(Value::Mark)),
                b't' => {
                    let items = to_mark(&mut stack)?;
                    stack.push(Rc::new(Value::Tuple(items)));
                }
                b'X' => {
                    let b = take(&mut at, 4)?;
                    let n = u32::from_le_bytes([b[0], b[1], b[2], b[3]]) as usize;
                    let s = std::str::from_utf8(take(&mut at, n)?).map_err(|_| bad("a string that is not UTF-8"))?;
                    stack.push(Rc::new(Value::Str(s.to_string())));
                }
                b'K' => stack.push(Rc::new(Value::Int(take(&mut at, 1)?[0] as i64))),
                b'M' => {
                    let b = take(&mut at, 2)?;
                    stack.push(Rc::new(Value::Int(u16::from_le_bytes([b[0], b[1]]) as i64)));
                }
                b'J' => {
                    let b = take(&mut at, 4)?;
                    stack.push(Rc::new(Value::Int(i32::from_le_bytes([b[0], b[1], b[2], b[3]]) as i64)));
                }
                0x8a => {
                    // LONG1: a little-endian two's-complement integer of n bytes.
                    let n = take(&mut at, 1)?[0] as usize;
                    let b = take(&mut at, n)?;
                    if n > 8 {
                        return Err(bad("an integer too large"));
                    }
                    let mut v: i64 = 0;
                    for (i, &x) in b.iter().enumerate() {
                        v |= (x as i64) << (8 * i);
                    }
                    if n > 0 && n < 8 && b[n - 1] & 0x80 != 0 {
                        v -= 1i64 << (8 * n);
                    }
                    stack.push(Rc::new(Value::Int(v)));
                }
                0x88 => stack.push(Rc::new(Value::Bool)),
                0x89 => stack.push(Rc::new(Value::Bool)),
                b'Q' => {
                    let pid = pop(&mut stack)?;
                    let storage = match &*pid {
                        Value::Tuple(t) => match t.iter().map(|v| &**v).collect::<Vec<_>>().as_slice() {
                            [Value::Str(tag), Value::Global(Known::FloatStorage), Value::Str(key), Value::Str(_device), Value::Int(numel)]
                                if tag == "storage" =>
                            {
                                Value::Storage { key: key.clone(), numel: *numel }
                            }
                            _ => return Err(bad("a storage other than 32-bit floats")),
                        },
                        _ => return Err(bad("an unknown persistent id")),
                    };
                    stack.push(Rc::new(storage));
                }
                b'R' => {
                    let args = pop(&mut stack)?;
                    let f = pop(&mut stack)?;
                    let Value::Tuple(args) = &*args else { return Err(bad("arguments that are not a tuple")) };
                    let made = match (&*f, args.iter().map(|v| &**v).collect::<Vec<_>>().as_slice()) {
                        (Value::Global(Known::OrderedDict), []) => Value::EmptyOrderedDict,
                        (
                            Value::Global(Known::RebuildTensor),
                            [Value::Storage { key, numel }, Value::Int(offset), size, stride, Value::Bool, Value::EmptyOrderedDict],
                        ) => Value::Tensor {
                            key: key.clone(),
                            numel: *numel,
                            offset: *offset,
                            size: ints(size)?,
                            stride: ints(stride)?,
                        },
                        _ => return Err(bad("a call it does not know")),
                    };
                    stack.push(Rc::new(made));
                }
                0x81 => {
                    let args = pop(&mut stack)?;
                    let cls = pop(&mut stack)?;
                    match (&*cls, &*args) {
                        (Value::Global(Known::Module), Value::Tuple(a)) if a.is_empty() => {
                            stack.push(Rc::new(Value::Module(Vec::new())))
                        }
                        _ => return Err(bad("an object it does not know")),
                    }
                }
                b'u' => {
                    let items = to_mark(&mut stack)?;
                    // The dict is changed in place: one the memo also holds
                    // (which libtorch never writes) would have to be copied,
                    // for a cost that could grow with the square of the input.
                    let Value::Dict(mut d) = Rc::try_unwrap(pop(&mut stack)?).map_err(|_| bad("a shared dict"))? else {
                        return Err(bad("items set on something not a dict"));
                    };
                    if items.len() % 2 != 0 {
                        return Err(bad("a key without a value"));
                    }
                    d.extend(items.chunks_exact(2).map(|kv| (kv[0].clone(), kv[1].clone())));
                    stack.push(Rc::new(Value::Dict(d)));
                }
                b'b' => {
                    let state = Rc::try_unwrap(pop(&mut stack)?).map_err(|_| bad("a shared state"))?;
                    let obj = pop(&mut stack)?;
                    match (&*obj, state) {
                        (Value::Module(m), Value::Dict(d)) if m.is_empty() => stack.push(Rc::new(Value::Module(d))),
                        _ => return Err(bad("a state set on something not a new module")),
                    }
                }
                b'.' => {
                    let not_module = || bad("the pickle does not build a module");
                    return match Rc::try_unwrap(pop(&mut stack)?) {
                        Ok(Value::Module(state)) => Ok(state),
                        Ok(_) => Err(not_module()),
                        Err(shared) => match &*shared {
                            Value::Module(state) => Ok(state.clone()),
                            _ => Err(not_module()),
                        },
                    };
                }
                other => return Err(bad(format!("a pickle operation it does not know ({other:#04x})"))),
            }
        }
    }

    #[cfg(test)]
    pub(super) fn unpickle_for_test(p: &[u8]) -> Result<usize, TrainError> {
        unpickle(p).map(|state| state.len())
    }

    /// The tensors of a libtorch archive.
    pub(super) fn read(bytes: &[u8]) -> Result<Tensors, TrainError> {
        let mut zip = zip::ZipArchive::new(std::io::Cursor::new(bytes)).map_err(bad)?;
        // Entries are stored, not compressed: read each within its own size.
        let mut entries: HashMap<String, Vec<u8>> = HashMap::new();
        for i in 0..zip.len() {
            let mut f = zip.by_index(i).map_err(bad)?;
            let name = f.name().to_string();
            if name.contains("/code/") || name.ends_with(".debug_pkl") {
                continue; // TorchScript: never read
            }
            if f.compression() != zip::CompressionMethod::Stored {
                return Err(bad("a compressed entry"));
            }
            let mut data = Vec::new();
            (&mut f).take(bytes.len() as u64).read_to_end(&mut data).map_err(bad)?;
            entries.insert(name, data);
        }
        let (pickle_name, pickle) =
            entries.iter().find(|(n, _)| n.ends_with("/data.pkl")).ok_or_else(|| bad("no data.pkl"))?;
        let prefix = pickle_name.trim_end_matches("data.pkl").to_string();
        if let Some(order) = entries.get(&format!("{prefix}byteorder")) {
            if order.as_slice() != b"little" {
                return Err(bad("a byte order other than little-endian"));
            }
        }
        let mut out = Tensors::new();
        for (k, v) in unpickle(pickle)? {
            let (Value::Str(name), Value::Tensor { key, numel: storage_numel, offset, size, stride }) = (&*k, &*v)
            else {
                return Err(bad("a module attribute that is not a tensor"));
            };
            let storage =
                entries.get(&format!("{prefix}data/{key}")).ok_or_else(|| bad(format!("no storage {key}")))?;
            if u64::try_from(*storage_numel).ok() != Some(storage.len() as u64 / 4) || storage.len() % 4 != 0 {
                return Err(bad(format!("storage {key} is not the size the pickle says")));
            }
            let shape: Vec<usize> = size
                .iter()
                .map(|&d| usize::try_from(d).map_err(|_| bad("a negative size")))
                .collect::<Result<_, _>>()?;
            // Contiguous, row-major, as libtorch saves a parameter.
            let mut expect = 1i64;
            for (d, s) in size.iter().zip(stride).rev() {
                if *d > 1 && *s != expect {
                    return Err(bad(format!("{name:?} is not contiguous")));
                }
                expect = expect.saturating_mul(*d);
            }
            let numel =
                shape.iter().try_fold(1usize, |a, &d| a.checked_mul(d)).ok_or_else(|| bad("a size too large"))?;
            let start = usize::try_from(*offset).map_err(|_| bad("a negative offset"))?;
            let end = start
                .checked_add(numel)
                .filter(|&e| e * 4 <= storage.len())
                .ok_or_else(|| bad("a tensor beyond its storage"))?;
            out.insert(name.replace('|', "."), (shape, floats(&storage[start * 4..end * 4])));
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn store(seed: i64) -> nn::VarStore {
        tch::manual_seed(seed);
        let vs = nn::VarStore::new(Device::Cpu);
        let root = vs.root();
        let _ = nn::linear(&root / "l1", 5, 3, Default::default());
        let _ = nn::linear(&root / "out", 3, 7, Default::default());
        vs
    }

    fn values(vs: &nn::VarStore) -> BTreeMap<String, Vec<f32>> {
        vs.variables().into_iter().map(|(n, t)| (n, Vec::<f32>::try_from(t.flatten(0, -1)).unwrap())).collect()
    }

    #[test]
    fn safetensors_round_trip() {
        let a = store(1);
        let bytes = save(&a).unwrap();
        assert!(!bytes.starts_with(b"PK"));
        let mut b = store(2);
        assert_ne!(values(&a), values(&b));
        load(&mut b, &bytes).unwrap();
        assert_eq!(values(&a), values(&b));
    }

    #[test]
    fn legacy_archives_load_without_libtorch() {
        let a = store(3);
        let mut bytes = Vec::new();
        a.save_to_stream(&mut bytes).unwrap();
        assert!(bytes.starts_with(b"PK\x03\x04"));
        let mut b = store(4);
        load(&mut b, &bytes).unwrap();
        assert_eq!(values(&a), values(&b));
    }

    #[test]
    fn every_architecture_round_trips_both_formats() {
        for model in ["mlp", "autoencoder", "transformer", "gru"] {
            let c = crate::config::TrainConfig { model: model.into(), ..Default::default() };
            let net = |seed: i64| {
                tch::manual_seed(seed);
                let vs = nn::VarStore::new(Device::Cpu);
                let _ = crate::nets::build(&vs.root(), 40, &c);
                vs
            };
            let a = net(1);
            let mut legacy = Vec::new();
            a.save_to_stream(&mut legacy).unwrap();
            for bytes in [save(&a).unwrap(), legacy] {
                let mut b = net(2);
                assert_ne!(values(&a), values(&b), "{model}");
                load(&mut b, &bytes).unwrap();
                assert_eq!(values(&a), values(&b), "{model}");
            }
        }
    }

    #[test]
    fn other_shapes_names_and_bytes_are_errors() {
        let a = store(5);
        let bytes = save(&a).unwrap();
        // Another network: other shapes.
        tch::manual_seed(6);
        let mut other = nn::VarStore::new(Device::Cpu);
        let _ = nn::linear(&other.root() / "l1", 5, 4, Default::default());
        let _ = nn::linear(&other.root() / "out", 4, 7, Default::default());
        assert!(load(&mut other, &bytes).is_err());
        // Fewer variables.
        let mut fewer = nn::VarStore::new(Device::Cpu);
        let _ = nn::linear(&fewer.root() / "l1", 5, 3, Default::default());
        assert!(load(&mut fewer, &bytes).is_err());
        // Truncated, garbage, empty.
        let mut b = store(7);
        for broken in [&bytes[..bytes.len() / 2], b"PK\x03\x04garbage".as_slice(), b"", &[0xff; 64]] {
            assert!(load(&mut b, broken).is_err());
        }
    }

    #[test]
    fn a_pickle_naming_anything_else_is_refused() {
        // The archive's code is never read; its pickle may name only the
        // few things libtorch writes.
        for p in [
            b"\x80\x02cos\nsystem\nq\x00.".as_slice(),
            b"\x80\x02c__builtin__\neval\nq\x00.".as_slice(),
            b"\x80\x02ctorch\nload\n.".as_slice(),
            b"\x80\x02c__torch__\nModule\nq\x00)\x81}b.".as_slice(),
        ] {
            let r = legacy::unpickle_for_test(p);
            assert!(r.is_err() || r.is_ok_and(|n| n == 0), "{:?}", String::from_utf8_lossy(p));
        }
        assert!(legacy::unpickle_for_test(b"\x80\x02cos\nsystem\n.").is_err());
        // Deep sharing through the memo costs nothing (no copies).
        let mut p = b"\x80\x02(K\x01tq\x00".to_vec();
        for _ in 0..64 {
            p.extend_from_slice(b"(h\x00h\x00tq\x00");
        }
        p.extend_from_slice(b".");
        assert!(legacy::unpickle_for_test(&p).is_err());
    }
}
