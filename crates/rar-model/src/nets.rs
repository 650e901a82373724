//! The three architectures. Each maps a batch of baskets (the visible items)
//! to one logit per vocabulary item; `sigmoid(logit)` reads as the chance
//! that the item is in a basket holding the visible items.

use tch::nn::{self, Module};
use tch::{Device, Kind, Tensor};

use crate::config::TrainConfig;

/// A batch as the networks read it.
pub struct Batch {
    /// `[batch, vocabulary]` 0/1 (mlp, autoencoder).
    pub multi_hot: Tensor,
    /// `[batch, length]` item index + 1, 0 for padding (transformer).
    pub tokens: Tensor,
}

pub trait BasketNet {
    fn logits(&self, batch: &Batch, train: bool) -> Tensor;
}

/// input → hidden → hidden → items, ReLU between (the design documents'
/// three-layer network).
pub struct Mlp {
    l1: nn::Linear,
    l2: nn::Linear,
    out: nn::Linear,
    dropout: f64,
}

impl Mlp {
    pub fn new(p: &nn::Path, vocab: i64, c: &TrainConfig) -> Self {
        Mlp {
            l1: nn::linear(p / "l1", vocab, c.hidden, Default::default()),
            l2: nn::linear(p / "l2", c.hidden, c.hidden, Default::default()),
            out: nn::linear(p / "out", c.hidden, vocab, Default::default()),
            dropout: c.dropout,
        }
    }
}

impl BasketNet for Mlp {
    fn logits(&self, b: &Batch, train: bool) -> Tensor {
        let h = self.l1.forward(&b.multi_hot).relu().dropout(self.dropout, train);
        let h = self.l2.forward(&h).relu().dropout(self.dropout, train);
        self.out.forward(&h)
    }
}

/// An under-complete denoising autoencoder in the manner of Aerial+
/// (Karabulut et al., NeSy 2025): masked baskets in, a narrow bottleneck,
/// the whole basket out.
pub struct Autoencoder {
    enc1: nn::Linear,
    enc2: nn::Linear,
    dec1: nn::Linear,
    dec2: nn::Linear,
    dropout: f64,
}

impl Autoencoder {
    pub fn new(p: &nn::Path, vocab: i64, c: &TrainConfig) -> Self {
        Autoencoder {
            enc1: nn::linear(p / "enc1", vocab, c.hidden, Default::default()),
            enc2: nn::linear(p / "enc2", c.hidden, c.bottleneck, Default::default()),
            dec1: nn::linear(p / "dec1", c.bottleneck, c.hidden, Default::default()),
            dec2: nn::linear(p / "dec2", c.hidden, vocab, Default::default()),
            dropout: c.dropout,
        }
    }
}

impl BasketNet for Autoencoder {
    fn logits(&self, b: &Batch, train: bool) -> Tensor {
        let h = self.enc1.forward(&b.multi_hot.dropout(self.dropout, train)).relu();
        let z = self.enc2.forward(&h).tanh();
        let h = self.dec1.forward(&z).relu();
        self.dec2.forward(&h)
    }
}

/// One encoder layer: self-attention over the basket's items (no positions:
/// a basket is a set), then a feed-forward block, each with a residual and
/// layer norm.
struct EncoderLayer {
    q: nn::Linear,
    k: nn::Linear,
    v: nn::Linear,
    o: nn::Linear,
    ff1: nn::Linear,
    ff2: nn::Linear,
    ln1: nn::LayerNorm,
    ln2: nn::LayerNorm,
    heads: i64,
}

impl EncoderLayer {
    fn new(p: &nn::Path, e: i64, heads: i64) -> Self {
        let lin = |name: &str, i, o| nn::linear(p / name, i, o, Default::default());
        EncoderLayer {
            q: lin("q", e, e),
            k: lin("k", e, e),
            v: lin("v", e, e),
            o: lin("o", e, e),
            ff1: lin("ff1", e, 4 * e),
            ff2: lin("ff2", 4 * e, e),
            ln1: nn::layer_norm(p / "ln1", vec![e], Default::default()),
            ln2: nn::layer_norm(p / "ln2", vec![e], Default::default()),
            heads,
        }
    }

    /// `x`: `[b, l, e]`; `pad`: `[b, l]` true where padding.
    fn forward(&self, x: &Tensor, pad: &Tensor, dropout: f64, train: bool) -> Tensor {
        let (b, l, e) = x.size3().expect("3-d input");
        let d = e / self.heads;
        let split = |t: Tensor| t.view([b, l, self.heads, d]).transpose(1, 2);
        let (q, k, v) = (split(self.q.forward(x)), split(self.k.forward(x)), split(self.v.forward(x)));
        let scores = q.matmul(&k.transpose(-2, -1)) / (d as f64).sqrt();
        let masked = scores.masked_fill(&pad.view([b, 1, 1, l]), f64::NEG_INFINITY);
        let att = masked.softmax(-1, Kind::Float).dropout(dropout, train);
        let ctx = att.matmul(&v).transpose(1, 2).contiguous().view([b, l, e]);
        let x = self.ln1.forward(&(x + self.o.forward(&ctx).dropout(dropout, train)));
        let ff = self.ff2.forward(&self.ff1.forward(&x).relu()).dropout(dropout, train);
        self.ln2.forward(&(x + ff))
    }
}

/// A set encoder: item embeddings, self-attention without positions, mean
/// pooling over the basket's items, a head over the vocabulary.
pub struct SetTransformer {
    emb: nn::Embedding,
    layers: Vec<EncoderLayer>,
    head: nn::Linear,
    dropout: f64,
}

impl SetTransformer {
    pub fn new(p: &nn::Path, vocab: i64, c: &TrainConfig) -> Self {
        SetTransformer {
            emb: nn::embedding(p / "emb", vocab + 1, c.embedding, Default::default()),
            layers: (0..c.layers)
                .map(|i| EncoderLayer::new(&(p / format!("layer{i}")), c.embedding, c.heads))
                .collect(),
            head: nn::linear(p / "head", c.embedding, vocab, Default::default()),
            dropout: c.dropout,
        }
    }
}

impl BasketNet for SetTransformer {
    fn logits(&self, b: &Batch, train: bool) -> Tensor {
        let pad = b.tokens.eq(0);
        let mut x = self.emb.forward(&b.tokens);
        for layer in &self.layers {
            x = layer.forward(&x, &pad, self.dropout, train);
        }
        let keep = pad.logical_not().unsqueeze(-1).to_kind(Kind::Float);
        let pooled = (x * &keep).sum_dim_intlist(1, false, Kind::Float)
            / keep.sum_dim_intlist(1, false, Kind::Float).clamp_min(1.0);
        self.head.forward(&pooled)
    }
}

/// Builds the network named in the settings.
pub fn build(p: &nn::Path, vocab: i64, c: &TrainConfig) -> Box<dyn BasketNet> {
    match c.model.as_str() {
        "mlp" => Box::new(Mlp::new(p, vocab, c)),
        "transformer" => Box::new(SetTransformer::new(p, vocab, c)),
        _ => Box::new(Autoencoder::new(p, vocab, c)),
    }
}

/// Turns lists of visible items into a batch on `device`.
pub fn batch(visible: &[&[u32]], vocab: i64, max_items: i64, device: Device) -> Batch {
    let n = visible.len() as i64;
    let mut hot = vec![0f32; (n * vocab) as usize];
    let len = visible.iter().map(|v| v.len() as i64).max().unwrap_or(1).clamp(1, max_items);
    let mut tokens = vec![0i64; (n * len) as usize];
    for (r, items) in visible.iter().enumerate() {
        for &i in items.iter() {
            hot[r * vocab as usize + i as usize] = 1.0;
        }
        for (c, &i) in items.iter().take(len as usize).enumerate() {
            tokens[r * len as usize + c] = i as i64 + 1;
        }
    }
    Batch {
        multi_hot: Tensor::from_slice(&hot).view([n, vocab]).to_device(device),
        tokens: Tensor::from_slice(&tokens).view([n, len]).to_device(device),
    }
}
