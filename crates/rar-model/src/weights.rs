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
/// archive) into the variables of `vs`: every variable once, each of its
/// own shape, and nothing else.
pub fn load(vs: &mut nn::VarStore, bytes: &[u8]) -> Result<(), TrainError> {
    let mut vars = vs.variables();
    let wanted: Wanted =
        vars.iter().map(|(n, t)| (n.clone(), t.size().iter().map(|&d| d as usize).collect())).collect();
    let tensors = if bytes.starts_with(b"PK\x03\x04") {
        legacy::read(bytes, &wanted)?
    } else {
        read_safetensors(bytes, &wanted)?
    };
    if tensors.len() != vars.len() {
        return Err(bad(format!("{} tensors for a network of {}", tensors.len(), vars.len())));
    }
    tch::no_grad(|| {
        for (name, values) in tensors {
            let var = vars.get_mut(&name).ok_or_else(|| bad(format!("no variable {name:?} in this network")))?;
            let src = Tensor::from_slice(&values).view(var.size().as_slice()).to_device(var.device());
            var.copy_(&src);
        }
        Ok(())
    })
}

/// The network's variables: name and shape.
type Wanted = HashMap<String, Vec<usize>>;

/// The values of each variable, checked against [`Wanted`].
type Tensors = HashMap<String, Vec<f32>>;

/// Adds `values` as the tensor `name` of `shape`, if the network has that
/// variable, of that shape, not given before.
fn take(out: &mut Tensors, wanted: &Wanted, name: String, shape: &[usize], values: &[u8]) -> Result<(), TrainError> {
    let numel = expected(out, wanted, &name, shape)?;
    if values.len() != numel * 4 {
        return Err(bad(format!("{name:?} has {} bytes for {numel} numbers", values.len())));
    }
    out.insert(name, values.chunks_exact(4).map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]])).collect());
    Ok(())
}

/// The number of values of the tensor `name` of `shape`, if the network has
/// that variable, of that shape, not given before (checked before its bytes
/// are read).
fn expected(out: &Tensors, wanted: &Wanted, name: &str, shape: &[usize]) -> Result<usize, TrainError> {
    let want = wanted.get(name).ok_or_else(|| bad(format!("no variable {name:?} in this network")))?;
    if want.as_slice() != shape {
        return Err(bad(format!("{name:?} has shape {shape:?}, the network's is {want:?}")));
    }
    if out.contains_key(name) {
        return Err(bad(format!("{name:?} is given twice")));
    }
    Ok(want.iter().product::<usize>())
}

/// Most bytes of a safetensors header per variable (a name, a type, a shape
/// and two offsets take about a hundred).
const HEADER_BYTES_PER_VARIABLE: usize = 1024;

fn read_safetensors(bytes: &[u8], wanted: &Wanted) -> Result<Tensors, TrainError> {
    // The header is read before anything else: bounded by the network, not
    // by the bytes (the crate allows 100 MB).
    let header = bytes.get(..8).map(|b| u64::from_le_bytes([b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7]]));
    let most = (wanted.len() * HEADER_BYTES_PER_VARIABLE + 4096) as u64;
    if header.is_some_and(|h| h > most) {
        return Err(bad(format!(
            "a header of {} bytes for a network of {} variables",
            header.unwrap_or(0),
            wanted.len()
        )));
    }
    let st = SafeTensors::deserialize(bytes)
        .map_err(|e| bad(format!("they are neither safetensors nor a libtorch archive ({e:?})")))?;
    let mut out = Tensors::new();
    for (name, view) in st.tensors() {
        if view.dtype() != Dtype::F32 {
            return Err(bad(format!("{name:?} is {:?}, not 32-bit floats", view.dtype())));
        }
        take(&mut out, wanted, name, view.shape(), view.data())?;
    }
    Ok(out)
}

/// The libtorch archives of rar before safetensors, read without libtorch.
mod legacy {
    use super::*;

    /// Deepest nesting of tuples and dicts taken (libtorch writes 3).
    const MAX_DEPTH: u32 = 8;
    /// Most dimensions of a tensor.
    const MAX_DIMS: usize = 8;

    /// The values the archive's pickle builds (shared, so that a memo
    /// fetched many times costs nothing; strings are shared too).
    #[derive(Debug)]
    enum Value {
        Mark,
        Int(i64),
        Bool,
        Str(Rc<str>),
        /// Items, and how deep tuples and dicts nest in it (at most
        /// MAX_DEPTH: dropping a deeper value would recurse as deep).
        Tuple(Vec<Rc<Value>>, u32),
        Dict(Vec<(Rc<Value>, Rc<Value>)>, u32),
        /// One of the few names the archive refers to.
        Global(Known),
        /// A storage: its entry in the archive and its number of floats.
        Storage {
            key: Rc<str>,
            numel: i64,
        },
        Tensor {
            key: Rc<str>,
            numel: i64,
            offset: i64,
            size: Vec<i64>,
            stride: Vec<i64>,
        },
        /// The module, with its state once built (and that state's depth).
        Module(Vec<(Rc<Value>, Rc<Value>)>, u32),
        EmptyOrderedDict,
    }

    fn depth(v: &Value) -> u32 {
        match v {
            Value::Tuple(_, d) | Value::Dict(_, d) | Value::Module(_, d) => *d,
            _ => 0,
        }
    }

    fn nested<'a>(items: impl Iterator<Item = &'a Rc<Value>>) -> Result<u32, TrainError> {
        let d = 1 + items.map(|v| depth(v)).max().unwrap_or(0);
        if d > MAX_DEPTH {
            return Err(bad("values nested too deep"));
        }
        Ok(d)
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

    /// A tensor's size or stride: a short tuple of numbers.
    fn ints(v: &Value) -> Result<Vec<i64>, TrainError> {
        match v {
            Value::Tuple(t, _) if t.len() <= MAX_DIMS => t
                .iter()
                .map(|x| match **x {
                    Value::Int(i) => Ok(i),
                    _ => Err(bad("a size that is not a number")),
                })
                .collect(),
            _ => Err(bad("a size that is not a short tuple")),
        }
    }

    /// Runs the pickle `p` (protocol 2, the operations libtorch writes) to
    /// the module it builds. Every operation reads at least a byte and
    /// copies at most a few values, so time and memory follow `p`'s length.
    fn unpickle(p: &[u8]) -> Result<Vec<(Rc<Value>, Rc<Value>)>, TrainError> {
        let mut stack: Vec<Rc<Value>> = Vec::new();
        let mut memo: HashMap<u32, Rc<Value>> = HashMap::new();
        let mut at = 0usize;
        let take = |at: &mut usize, n: usize| -> Result<&[u8], TrainError> {
            let s = p.get(*at..at.saturating_add(n)).ok_or_else(|| bad("the pickle ends early"))?;
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
        let u32_at = |b: &[u8]| u32::from_le_bytes([b[0], b[1], b[2], b[3]]);
        loop {
            let op = take(&mut at, 1)?[0];
            match op {
                0x80 => {
                    take(&mut at, 1)?;
                }
                b'c' => {
                    let (module, name) = (line(&mut at)?, line(&mut at)?);
                    stack.push(Rc::new(Value::Global(known(&module, &name)?)));
                }
                b'q' | b'r' => {
                    let k = if op == b'q' { take(&mut at, 1)?[0] as u32 } else { u32_at(take(&mut at, 4)?) };
                    memo.insert(k, stack.last().cloned().ok_or_else(|| bad("nothing to memo"))?);
                }
                b'h' | b'j' => {
                    let k = if op == b'h' { take(&mut at, 1)?[0] as u32 } else { u32_at(take(&mut at, 4)?) };
                    stack.push(memo.get(&k).cloned().ok_or_else(|| bad("an unknown memo"))?);
                }
                b')' => stack.push(Rc::new(Value::Tuple(Vec::new(), 1))),
                b'}' => stack.push(Rc::new(Value::Dict(Vec::new(), 1))),
                b'(' => stack.push(Rc::new(Value::Mark)),
                b't' => {
                    let items = to_mark(&mut stack)?;
                    let d = nested(items.iter())?;
                    stack.push(Rc::new(Value::Tuple(items, d)));
                }
                b'X' => {
                    let n = u32_at(take(&mut at, 4)?) as usize;
                    let s = std::str::from_utf8(take(&mut at, n)?).map_err(|_| bad("a string that is not UTF-8"))?;
                    stack.push(Rc::new(Value::Str(Rc::from(s))));
                }
                b'K' => stack.push(Rc::new(Value::Int(take(&mut at, 1)?[0] as i64))),
                b'M' => {
                    let b = take(&mut at, 2)?;
                    stack.push(Rc::new(Value::Int(u16::from_le_bytes([b[0], b[1]]) as i64)));
                }
                b'J' => stack.push(Rc::new(Value::Int(u32_at(take(&mut at, 4)?) as i32 as i64))),
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
                0x88 | 0x89 => stack.push(Rc::new(Value::Bool)),
                b'Q' => {
                    let pid = pop(&mut stack)?;
                    let storage = match &*pid {
                        Value::Tuple(t, _) => match t.iter().map(|v| &**v).collect::<Vec<_>>().as_slice() {
                            [Value::Str(tag), Value::Global(Known::FloatStorage), Value::Str(key), Value::Str(_device), Value::Int(numel)]
                                if &**tag == "storage" =>
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
                    let Value::Tuple(args, _) = &*args else { return Err(bad("arguments that are not a tuple")) };
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
                        (Value::Global(Known::Module), Value::Tuple(a, _)) if a.is_empty() => {
                            stack.push(Rc::new(Value::Module(Vec::new(), 1)))
                        }
                        _ => return Err(bad("an object it does not know")),
                    }
                }
                b'u' => {
                    let items = to_mark(&mut stack)?;
                    // The dict is changed in place: one the memo also holds
                    // (which libtorch never writes) would have to be copied,
                    // for a cost that could grow with the square of the input.
                    let Value::Dict(mut d, depth) =
                        Rc::try_unwrap(pop(&mut stack)?).map_err(|_| bad("a shared dict"))?
                    else {
                        return Err(bad("items set on something not a dict"));
                    };
                    if items.len() % 2 != 0 {
                        return Err(bad("a key without a value"));
                    }
                    let depth = depth.max(nested(items.iter())?);
                    d.extend(items.chunks_exact(2).map(|kv| (kv[0].clone(), kv[1].clone())));
                    stack.push(Rc::new(Value::Dict(d, depth)));
                }
                b'b' => {
                    let state = Rc::try_unwrap(pop(&mut stack)?).map_err(|_| bad("a shared state"))?;
                    let obj = pop(&mut stack)?;
                    match (&*obj, state) {
                        (Value::Module(m, _), Value::Dict(d, depth)) if m.is_empty() => {
                            stack.push(Rc::new(Value::Module(d, depth + 1)))
                        }
                        _ => return Err(bad("a state set on something not a new module")),
                    }
                }
                b'.' => {
                    let not_module = || bad("the pickle does not build a module");
                    return match Rc::try_unwrap(pop(&mut stack)?) {
                        Ok(Value::Module(state, _)) => Ok(state),
                        Ok(_) => Err(not_module()),
                        Err(shared) => match &*shared {
                            Value::Module(state, _) => Ok(state.clone()),
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

    type Zip<'a> = zip::ZipArchive<std::io::Cursor<&'a [u8]>>;

    /// An entry of the archive, stored (not compressed), at most `most`
    /// bytes, and never more than the archive holds; read to its end, so
    /// that its checksum is checked.
    fn entry(zip: &mut Zip<'_>, total: usize, name: &str, most: u64) -> Result<Vec<u8>, TrainError> {
        let most = most.min(total as u64);
        let mut f = zip.by_name(name).map_err(|_| bad(format!("no entry {name}")))?;
        if f.compression() != zip::CompressionMethod::Stored || f.compressed_size() != f.size() {
            return Err(bad(format!("entry {name} is compressed")));
        }
        if f.size() > most {
            return Err(bad(format!("entry {name} holds {} bytes, more than expected", f.size())));
        }
        let mut data = Vec::with_capacity(f.size() as usize);
        f.read_to_end(&mut data).map_err(bad)?;
        Ok(data)
    }

    fn u16_at(b: &[u8], at: usize) -> Option<u64> {
        b.get(at..at + 2).map(|x| u16::from_le_bytes([x[0], x[1]]) as u64)
    }

    fn u64_at(b: &[u8], at: usize) -> Option<u64> {
        b.get(at..at + 8).map(|x| u64::from_le_bytes([x[0], x[1], x[2], x[3], x[4], x[5], x[6], x[7]]))
    }

    /// The number of entries the `zip` crate (0.6) reserves room for when it
    /// opens `b`, found the way it finds them (the end record searched
    /// backwards from the end, then the zip64 locator before it and the
    /// zip64 record searched forwards from where the locator says), so that
    /// a count it would trust can be refused before it allocates for it.
    /// `None` where the crate finds no directory (it fails without reserving).
    pub(super) fn directory_entries(b: &[u8]) -> Option<u64> {
        const END: [u8; 4] = *b"PK\x05\x06";
        const LOCATOR: [u8; 4] = *b"PK\x06\x07";
        const END64: [u8; 4] = *b"PK\x06\x06";
        let n = b.len();
        let lowest = n.checked_sub(22)?.saturating_sub(u16::MAX as usize);
        let end = (lowest..=n - 22).rev().find(|&p| b[p..p + 4] == END)?;
        let comment = u16_at(b, end + 20)? as usize;
        match n.checked_sub(20 + 22 + comment) {
            Some(loc) if b.get(loc..loc + 4) == Some(&LOCATOR[..]) => {
                let nominal = usize::try_from(u64_at(b, loc + 8)?).ok()?;
                let upper = end.checked_sub(60)?;
                let at = (nominal..=upper).find(|&p| b.get(p..p + 4) == Some(&END64[..]))?;
                u64_at(b, at + 32)
            }
            _ => u16_at(b, end + 8),
        }
    }

    /// The tensors of a libtorch archive, each a variable of `wanted`. Only
    /// the pickle and the storages of those variables are read, each at
    /// most once per variable: what is read follows the network's size.
    pub(super) fn read(bytes: &[u8], wanted: &Wanted) -> Result<Tensors, TrainError> {
        // A libtorch archive has an entry per storage and eight more.
        let most_entries = 2 * wanted.len() as u64 + 16;
        if directory_entries(bytes).is_some_and(|k| k > most_entries) {
            return Err(bad(format!("a directory of more than {most_entries} entries")));
        }
        let mut zip = zip::ZipArchive::new(std::io::Cursor::new(bytes)).map_err(bad)?;
        // The crate keeps the last of entries of one name: refused, as
        // readers differ on which one counts.
        let names: Vec<String> = zip.file_names().map(str::to_string).collect();
        if names.len() != zip.len() {
            return Err(bad("two entries of one name"));
        }
        let pickles: Vec<&String> = names.iter().filter(|n| n.ends_with("/data.pkl")).collect();
        let [pickle_name] = pickles.as_slice() else {
            return Err(bad(format!("{} data.pkl entries", pickles.len())));
        };
        let prefix = pickle_name.trim_end_matches("data.pkl").to_string();
        if names.contains(&format!("{prefix}byteorder"))
            && entry(&mut zip, bytes.len(), &format!("{prefix}byteorder"), 16)? != b"little"
        {
            return Err(bad("a byte order other than little-endian"));
        }
        // Its pickle takes a few hundred bytes a variable.
        let pickle = entry(&mut zip, bytes.len(), pickle_name, (wanted.len() * 1024 + 4096) as u64)?;
        let state = unpickle(&pickle)?;
        if state.len() > wanted.len() {
            return Err(bad(format!("{} tensors for a network of {}", state.len(), wanted.len())));
        }
        let mut out = Tensors::new();
        // Each storage read once, however many variables it holds.
        let mut storages: HashMap<Rc<str>, Vec<u8>> = HashMap::new();
        for (k, v) in state {
            let (Value::Str(name), Value::Tensor { key, numel: storage_numel, offset, size, stride }) = (&*k, &*v)
            else {
                return Err(bad("a module attribute that is not a tensor"));
            };
            let name = name.replace('|', ".");
            let shape: Vec<usize> = size
                .iter()
                .map(|&d| usize::try_from(d).map_err(|_| bad("a negative size")))
                .collect::<Result<_, _>>()?;
            let numel = expected(&out, wanted, &name, &shape)?;
            // Contiguous, row-major, as libtorch saves a parameter.
            if stride.len() != size.len() {
                return Err(bad(format!("{name:?} has {} strides for {} dimensions", stride.len(), size.len())));
            }
            let mut expect = 1i64;
            for (d, s) in size.iter().zip(stride).rev() {
                if *d > 1 && *s != expect {
                    return Err(bad(format!("{name:?} is not contiguous")));
                }
                expect = expect.saturating_mul(*d);
            }
            let start = usize::try_from(*offset).map_err(|_| bad("a negative offset"))?;
            let storage_floats = usize::try_from(*storage_numel).map_err(|_| bad("a negative storage size"))?;
            let end = start
                .checked_add(numel)
                .filter(|&e| e <= storage_floats)
                .ok_or_else(|| bad("a tensor beyond its storage"))?;
            let storage_bytes = storage_floats.checked_mul(4).ok_or_else(|| bad("a storage too large"))?;
            if !storages.contains_key(key) {
                let data = entry(&mut zip, bytes.len(), &format!("{prefix}data/{key}"), storage_bytes as u64)?;
                storages.insert(key.clone(), data);
            }
            let storage = &storages[key];
            if storage.len() != storage_bytes {
                return Err(bad(format!("storage {key} is not the size the pickle says")));
            }
            super::take(&mut out, wanted, name, &shape, &storage[start * 4..end * 4])?;
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

    /// A network of one variable `w` of two numbers.
    fn one_var() -> nn::VarStore {
        let vs = nn::VarStore::new(Device::Cpu);
        let _ = vs.root().zeros("w", &[2]);
        vs
    }

    fn x(s: &str) -> Vec<u8> {
        let mut v = vec![b'X'];
        v.extend_from_slice(&(s.len() as u32).to_le_bytes());
        v.extend_from_slice(s.as_bytes());
        v
    }

    /// The pickle libtorch writes for `w` (names given; the offset, size and
    /// stride as pickle operations).
    fn pickle(entries: &[(&str, &[u8], &[u8], &[u8])]) -> Vec<u8> {
        let mut p = b"\x80\x02c__torch__\nModule\nq\x00)\x81}(".to_vec();
        for (name, offset, size, stride) in entries {
            p.extend(x(name));
            p.extend_from_slice(b"ctorch._utils\n_rebuild_tensor_v2\n((");
            p.extend(x("storage"));
            p.extend_from_slice(b"ctorch\nFloatStorage\n");
            p.extend(x("0"));
            p.extend(x("cpu"));
            p.extend_from_slice(b"K\x02tQ");
            p.extend_from_slice(offset);
            p.extend_from_slice(size);
            p.extend_from_slice(stride);
            p.extend_from_slice(b"\x89ccollections\nOrderedDict\n)RtR");
        }
        p.extend_from_slice(b"ub.");
        p
    }

    fn archive(files: &[(&str, &[u8])]) -> Vec<u8> {
        let mut out = std::io::Cursor::new(Vec::new());
        let mut z = zip::ZipWriter::new(&mut out);
        let stored = zip::write::FileOptions::default().compression_method(zip::CompressionMethod::Stored);
        for (name, data) in files {
            z.start_file(*name, stored).unwrap();
            std::io::Write::write_all(&mut z, data).unwrap();
        }
        z.finish().unwrap();
        drop(z);
        out.into_inner()
    }

    const TWO: &[u8] = &[0, 0, 0x80, 0x3f, 0, 0, 0, 0x40]; // 1.0, 2.0

    #[test]
    fn a_hand_made_archive_loads_and_every_twist_of_it_is_refused() {
        let good = pickle(&[("w", b"K\x00", b"(K\x02t", b"(K\x01t")]);
        let mut vs = one_var();
        load(&mut vs, &archive(&[("archive/data.pkl", &good), ("archive/data/0", TWO)])).unwrap();
        assert_eq!(values(&vs)["w"], vec![1.0, 2.0]);
        let twisted: Vec<(&str, Vec<u8>, Vec<(&str, &[u8])>)> = vec![
            // Offsets that would wrap around when counted in bytes.
            ("offset 2^62", pickle(&[("w", b"\x8a\x08\0\0\0\0\0\0\0\x40", b"(K\x02t", b"(K\x01t")]), vec![]),
            (
                "offset 2^62-1",
                pickle(&[("w", b"\x8a\x08\xff\xff\xff\xff\xff\xff\xff\x3f", b"(K\x02t", b"(K\x01t")]),
                vec![],
            ),
            ("no stride", pickle(&[("w", b"K\x00", b"(K\x02t", b")")]), vec![]),
            ("another stride", pickle(&[("w", b"K\x00", b"(K\x02t", b"(K\x02t")]), vec![]),
            (
                "twice",
                pickle(&[("w", b"K\x00", b"(K\x02t", b"(K\x01t"), ("w", b"K\x00", b"(K\x02t", b"(K\x01t")]),
                vec![],
            ),
            ("another name", pickle(&[("v", b"K\x00", b"(K\x02t", b"(K\x01t")]), vec![]),
            ("another shape", pickle(&[("w", b"K\x00", b"(K\x01K\x02t", b"(K\x02K\x01t")]), vec![]),
            ("a second data.pkl", good.clone(), vec![("other/data.pkl", &good)]),
        ];
        for (what, p, extra) in twisted {
            let mut files: Vec<(&str, &[u8])> = vec![("archive/data.pkl", &p), ("archive/data/0", TWO)];
            files.extend(extra);
            let mut vs = one_var();
            assert!(load(&mut vs, &archive(&files)).is_err(), "{what}");
        }
        // A storage shorter than the pickle says.
        let mut vs = one_var();
        assert!(load(&mut vs, &archive(&[("archive/data.pkl", &good), ("archive/data/0", &TWO[..4])])).is_err());
        // A safetensors header far larger than the network needs is refused
        // before it is parsed.
        let mut big = (50_000_000u64).to_le_bytes().to_vec();
        big.extend(std::iter::repeat_n(b' ', 1000));
        assert!(load(&mut vs, &big).is_err());
    }

    #[test]
    fn the_zip_directory_is_checked_before_the_crate_trusts_it() {
        // The count is found where the crate finds it.
        let a = store(8);
        let mut legit = Vec::new();
        a.save_to_stream(&mut legit).unwrap();
        let entries = zip::ZipArchive::new(std::io::Cursor::new(legit.as_slice())).unwrap().len() as u64;
        assert_eq!(legacy::directory_entries(&legit), Some(entries));
        // A zip64 record claiming as many entries as the file has bytes: the
        // crate would reserve ~240 bytes for each (an abort on failure).
        let mut bomb = b"PK\x03\x04".to_vec();
        bomb.extend(std::iter::repeat_n(0u8, 100_000));
        let p = bomb.len() as u64;
        bomb.extend_from_slice(&0x0606_4b50u32.to_le_bytes());
        bomb.extend_from_slice(&44u64.to_le_bytes());
        bomb.extend_from_slice(&[45, 0, 45, 0]);
        bomb.extend_from_slice(&[0; 8]);
        for v in [p, p, 0, p] {
            bomb.extend_from_slice(&v.to_le_bytes());
        }
        bomb.extend_from_slice(&0x0706_4b50u32.to_le_bytes());
        bomb.extend_from_slice(&0u32.to_le_bytes());
        bomb.extend_from_slice(&p.to_le_bytes());
        bomb.extend_from_slice(&1u32.to_le_bytes());
        bomb.extend_from_slice(&0x0605_4b50u32.to_le_bytes());
        bomb.extend_from_slice(&[0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff]);
        bomb.extend_from_slice(&[0xff; 8]);
        bomb.extend_from_slice(&[0, 0]);
        assert_eq!(legacy::directory_entries(&bomb), Some(p));
        let mut b = store(9);
        assert!(load(&mut b, &bomb).is_err());
        // A storage whose bytes changed fails its checksum.
        let mut zip = zip::ZipArchive::new(std::io::Cursor::new(legit.as_slice())).unwrap();
        let name = zip.file_names().find(|n| n.contains("/data/")).unwrap().to_string();
        let data = zip.by_name(&name).unwrap().data_start() as usize;
        let mut flipped = legit.clone();
        flipped[data] ^= 0x55;
        assert!(load(&mut b, &flipped).is_err());
        load(&mut b, &legit).unwrap();
        // A pickle far larger than the network's needs is not read.
        let mut big = b"\x80\x02".to_vec();
        big.extend(std::iter::repeat_n(b'(', 4_000_000));
        big.push(b'.');
        assert!(load(&mut b, &archive(&[("archive/data.pkl", &big)])).is_err());
    }

    #[test]
    fn nesting_and_sharing_cost_what_the_input_costs() {
        // Tuples nested 400,000 deep (an 0.8 MB input) would overflow the
        // stack when dropped: refused past a few levels.
        let n = 400_000;
        let mut p = b"\x80\x02".to_vec();
        p.extend(std::iter::repeat_n(b'(', n));
        p.push(b')');
        p.extend(std::iter::repeat_n(b't', n));
        p.push(b'.');
        assert!(legacy::unpickle_for_test(&p).is_err());
        // The same through the memo, one level at a time.
        let mut p = b"\x80\x02(K\x01tq\x00".to_vec();
        for _ in 0..100_000 {
            p.extend_from_slice(b"(h\x00tq\x00");
        }
        p.push(b'.');
        assert!(legacy::unpickle_for_test(&p).is_err());
        // A long string used as a storage key many times is not copied.
        let mut p = b"\x80\x02".to_vec();
        p.extend(x(&"k".repeat(1_000_000)));
        p.extend_from_slice(b"q\x05(");
        p.extend(x("storage"));
        p.extend_from_slice(b"ctorch\nFloatStorage\nh\x05");
        p.extend(x("cpu"));
        p.extend_from_slice(b"K\x00tq\x06");
        for _ in 0..100_000 {
            p.extend_from_slice(b"h\x06Q");
        }
        p.push(b'.');
        assert!(legacy::unpickle_for_test(&p).is_err());
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
