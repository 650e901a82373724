//! The three architectures. Each maps a batch of baskets (the visible items)
//! to one logit per vocabulary item; `sigmoid(logit)` reads as the chance
//! that the item is in a basket holding the visible items.

use tch::nn::{self, Module, RNN};
use tch::{Device, Kind, Tensor};

use crate::config::TrainConfig;

/// A batch as the networks read it.
pub struct Batch {
    /// `[batch, vocabulary]` 0/1 (mlp, autoencoder).
    pub multi_hot: Tensor,
    /// `[batch, length]` item index + 1, 0 for padding (transformer).
    pub tokens: Tensor,
    /// The customers' earlier baskets (gru), see [`history_batch`].
    pub history: Option<HistoryBatch>,
}

/// A batch's histories: `tokens` `[batch, steps, length]` (item index + 1,
/// 0 for padding; oldest basket first, empty steps after a row's last
/// basket; `steps` the longest history of the batch, at most the model's
/// `history`), `lengths` `[batch]` the number of baskets of each row, and
/// `share` `[batch, vocabulary]`, the share of a customer's earlier baskets
/// holding each item.
pub struct HistoryBatch {
    pub tokens: Tensor,
    pub lengths: Tensor,
    pub share: Tensor,
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
        // A large finite value, not -inf: a basket of no items (scored as
        // the model's prior) is all padding, and a softmax over -inf alone
        // is NaN. Where any item is present, exp(-1e9) is 0 all the same.
        let masked = scores.masked_fill(&pad.view([b, 1, 1, l]), -1e9);
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

/// The sequence model: what the mlp reads of the current basket, plus a GRU
/// over the customer's earlier baskets (each the mean of its items'
/// embeddings, oldest first), the share of those baskets that held each
/// item through a layer of its own, and per item a learned weight on that
/// share straight into its logit (buying again is what a basket cannot
/// show).
pub struct GruNet {
    l1: nn::Linear,
    from_share: nn::Linear,
    emb: nn::Embedding,
    gru: nn::GRU,
    from_history: nn::Linear,
    l2: nn::Linear,
    out: nn::Linear,
    again: Tensor,
    dropout: f64,
}

impl GruNet {
    pub fn new(p: &nn::Path, vocab: i64, c: &TrainConfig) -> Self {
        let rnn = nn::RNNConfig { batch_first: true, ..Default::default() };
        GruNet {
            l1: nn::linear(p / "l1", vocab, c.hidden, Default::default()),
            from_share: nn::linear(p / "from_share", vocab, c.hidden, Default::default()),
            emb: nn::embedding(p / "emb", vocab + 1, c.embedding, Default::default()),
            gru: nn::gru(p / "gru", c.embedding, c.hidden, rnn),
            from_history: nn::linear(p / "from_history", c.hidden, c.hidden, Default::default()),
            l2: nn::linear(p / "l2", c.hidden, c.hidden, Default::default()),
            out: nn::linear(p / "out", c.hidden, vocab, Default::default()),
            again: p.zeros("again", &[vocab]),
            dropout: c.dropout,
        }
    }
}

impl BasketNet for GruNet {
    fn logits(&self, b: &Batch, train: bool) -> Tensor {
        let mut x = self.l1.forward(&b.multi_hot);
        let mut again = None;
        if let Some(h) = &b.history {
            let keep = h.tokens.ne(0).unsqueeze(-1).to_kind(Kind::Float);
            let e = self.emb.forward(&h.tokens) * &keep;
            let baskets =
                e.sum_dim_intlist(2, false, Kind::Float) / keep.sum_dim_intlist(2, false, Kind::Float).clamp_min(1.0);
            let (out, _) = self.gru.seq(&baskets);
            // The state after each row's last basket (padding after it does
            // not reach it); none for a row without history.
            let (rows, _, hidden) = out.size3().expect("3-d output");
            let at = (&h.lengths - 1).clamp_min(0).view([rows, 1, 1]).expand([rows, 1, hidden], false);
            let any = h.lengths.gt(0).to_kind(Kind::Float).unsqueeze(-1);
            let last = out.gather(1, &at, false).squeeze_dim(1) * any;
            x = x + self.from_history.forward(&last) + self.from_share.forward(&h.share);
            again = Some(&h.share * &self.again);
        }
        let h = x.relu().dropout(self.dropout, train);
        let h = self.l2.forward(&h).relu().dropout(self.dropout, train);
        let logits = self.out.forward(&h);
        match again {
            Some(a) => logits + a,
            None => logits,
        }
    }
}

/// Builds the network named in the settings.
pub fn build(p: &nn::Path, vocab: i64, c: &TrainConfig) -> Box<dyn BasketNet> {
    match c.model.as_str() {
        "mlp" => Box::new(Mlp::new(p, vocab, c)),
        "gru" => Box::new(GruNet::new(p, vocab, c)),
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
        history: None,
    }
}

/// The histories of a batch: for each row, its earlier baskets (oldest
/// first); the last `history` of them are read, each up to `max_items`
/// items.
pub fn history_batch(rows: &[Vec<&[u32]>], vocab: i64, history: i64, max_items: i64, device: Device) -> HistoryBatch {
    let n = rows.len();
    let recent: Vec<&[&[u32]]> = rows.iter().map(|b| &b[b.len().saturating_sub(history as usize)..]).collect();
    let steps_u = recent.iter().map(|b| b.len()).max().unwrap_or(0).max(1);
    let vocab_u = vocab as usize;
    let len = recent.iter().copied().flatten().map(|b| b.len() as i64).max().unwrap_or(1).clamp(1, max_items) as usize;
    let mut tokens = vec![0i64; n * steps_u * len];
    let mut share = vec![0f32; n * vocab_u];
    for (r, recent) in recent.iter().enumerate() {
        for (k, basket) in recent.iter().enumerate() {
            let at = (r * steps_u + k) * len;
            for (c, &i) in basket.iter().take(len).enumerate() {
                tokens[at + c] = i as i64 + 1;
            }
            for &i in basket.iter() {
                share[r * vocab_u + i as usize] += 1.0 / recent.len() as f32;
            }
        }
    }
    let lengths: Vec<i64> = recent.iter().map(|b| b.len() as i64).collect();
    HistoryBatch {
        tokens: Tensor::from_slice(&tokens).view([n as i64, steps_u as i64, len as i64]).to_device(device),
        lengths: Tensor::from_slice(&lengths).to_device(device),
        share: Tensor::from_slice(&share).view([n as i64, vocab]).to_device(device),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn histories_keep_the_most_recent_baskets_last() {
        let (a, b, c): (&[u32], &[u32], &[u32]) = (&[0], &[1, 2], &[2]);
        let rows = vec![vec![a, b, c], vec![c], vec![]];
        let h = history_batch(&rows, 4, 2, 64, Device::Cpu);
        assert_eq!(h.tokens.size(), [3, 2, 2]);
        let tokens = Vec::<i64>::try_from(h.tokens.flatten(0, -1)).unwrap();
        // Row 0: the last two baskets, oldest first; row 1: one basket,
        // then an empty step; row 2: nothing.
        assert_eq!(tokens, [2, 3, 3, 0, 3, 0, 0, 0, 0, 0, 0, 0]);
        assert_eq!(Vec::<i64>::try_from(&h.lengths).unwrap(), [2, 1, 0]);
        // No history at all: one empty step, not `history` of them.
        let none = history_batch(&[vec![], vec![]], 4, 1000, 64, Device::Cpu);
        assert_eq!(none.tokens.size(), [2, 1, 1]);
        let share = Vec::<f32>::try_from(h.share.flatten(0, -1)).unwrap();
        assert_eq!(share, [0.0, 0.5, 1.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 0.0, 0.0]);
    }

    #[test]
    fn the_memory_estimate_never_wraps_round() {
        // Sizes within their ranges whose product passes 2^64: a wrapped
        // estimate let a 2 GB transformer through a 600 MB budget.
        let c = TrainConfig {
            model: "transformer".into(),
            embedding: 64,
            heads: 64,
            layers: 7,
            max_basket_items: 84_472,
            batch_size: 480_878,
            ..Default::default()
        };
        assert!(crate::train::memory_needed(&c, 100) > 600 << 20);
        let small = TrainConfig { model: "transformer".into(), ..Default::default() };
        assert!(crate::train::memory_needed(&c, 100) >= crate::train::memory_needed(&small, 100));
        let gru = TrainConfig {
            model: "gru".into(),
            history: 1000,
            max_basket_items: 100_000,
            batch_size: 1 << 20,
            embedding: 4096,
            ..Default::default()
        };
        assert!(crate::train::memory_needed(&gru, 10_000_000) > 1 << 50);
    }

    #[test]
    fn large_batches_are_split_and_default_ones_are_not() {
        // Each part of a batch is cancellable after it: a role's batch of
        // 20,000 baskets through a 5,000-wide layer is cut into parts, the
        // defaults of every architecture at the largest default vocabulary
        // are not (the same step as before, whole).
        for model in ["autoencoder", "mlp", "transformer", "gru"] {
            let c = TrainConfig { model: model.into(), ..Default::default() };
            assert_eq!(crate::train::micro_batch(&c, c.max_vocab), c.batch_size as usize, "{model}");
        }
        let big = TrainConfig { hidden: 5000, bottleneck: 2, batch_size: 20_000, ..Default::default() };
        let part = crate::train::micro_batch(&big, 1000);
        assert!((1..2000).contains(&part), "{part}");
    }

    #[test]
    fn every_architecture_scores_an_empty_basket() {
        // The neural rules' thresholds start from the score of a basket of
        // no items; the transformer's attention over padding alone was NaN.
        for model in ["autoencoder", "mlp", "transformer", "gru"] {
            let c = TrainConfig { model: model.into(), ..Default::default() };
            let vs = nn::VarStore::new(Device::Cpu);
            let net = build(&vs.root(), 6, &c);
            let empty: &[u32] = &[];
            let mut b = batch(&[empty, &[1, 2]], 6, c.max_basket_items, Device::Cpu);
            if model == "gru" {
                b.history = Some(history_batch(&[vec![], vec![]], 6, c.history, c.max_basket_items, Device::Cpu));
            }
            let p = Vec::<f32>::try_from(net.logits(&b, false).sigmoid().flatten(0, -1)).unwrap();
            assert_eq!(p.len(), 12, "{model}");
            assert!(p.iter().all(|x| x.is_finite()), "{model}: {p:?}");
        }
    }
}
