//! Training by basket completion, evaluation and early stopping.
//!
//! Each epoch hides a share (`mask_rate`) of every training basket's items;
//! the mlp and the transformer learn to find the hidden items from the
//! visible ones, the autoencoder to rebuild the whole basket from the
//! visible ones (binary cross-entropy over the vocabulary). Validation hides
//! one item of each validation basket (the same item in every epoch) and
//! ranks every item the basket does not show: recall@k, NDCG@k, against the
//! item-popularity baseline. The weights of the best epoch by validation
//! recall@10 are kept; training stops after `patience` epochs without a
//! better one.

use std::time::Instant;

use serde::Serialize;
use tch::{nn, nn::OptimizerConfig, Device, Tensor};

use crate::config::{ConfigError, TrainConfig};
use crate::data::{mask, Histories, HistoryData, Rng, SparseBaskets};
use crate::nets::{batch, build, history_batch, BasketNet};

/// What the extension hands over.
pub struct TrainData {
    pub vocab: i64,
    pub train: SparseBaskets,
    pub valid: SparseBaskets,
    /// Training baskets holding each vocabulary item (the popularity baseline).
    pub item_counts: Vec<u64>,
    /// Customers' earlier baskets (the `gru` model needs them; the others
    /// do not read them).
    pub history: Option<HistoryData>,
}

/// Reported after every batch; the answer can stop training.
#[derive(Debug, Clone, Serialize)]
pub struct Progress {
    pub epoch: i64,
    pub epochs: i64,
    pub batch: usize,
    pub batches: usize,
    pub train_loss: f64,
    pub eta_seconds: f64,
    /// Set at the end of an epoch.
    pub valid: Option<Metrics>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Control {
    Continue,
    Stop,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Metrics {
    pub loss: f64,
    pub recall_at_5: f64,
    pub recall_at_10: f64,
    pub recall_at_20: f64,
    pub ndcg_at_10: f64,
    pub cases: usize,
}

#[derive(Debug, Clone, Serialize)]
pub struct EpochStats {
    pub epoch: i64,
    pub train_loss: f64,
    pub valid: Metrics,
    pub seconds: f64,
}

#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub model: String,
    pub device: String,
    pub vocab: i64,
    pub parameters: i64,
    pub train_baskets: usize,
    pub valid_baskets: usize,
    pub epochs_run: i64,
    pub best_epoch: i64,
    pub curves: Vec<EpochStats>,
    /// Validation metrics of the kept (best) epoch.
    pub metrics: Metrics,
    /// The same protocol, ranking items by training popularity.
    pub popularity: Metrics,
    pub seconds: f64,
    pub baskets_per_second: f64,
}

pub struct Outcome {
    pub report: Report,
    pub weights: Vec<u8>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum TrainError {
    Config(ConfigError),
    NoCuda,
    TooLarge { needed: u64, limit: u64 },
    TooFewBaskets { train: usize, valid: usize },
    Cancelled,
    Torch(String),
}

impl From<tch::TchError> for TrainError {
    fn from(e: tch::TchError) -> Self {
        TrainError::Torch(e.to_string())
    }
}

/// Parameters of the network, for the memory estimate.
pub fn parameter_count(c: &TrainConfig, vocab: i64) -> i64 {
    // In 128 bits, clamped: the sizes are a role's to choose, and a wrapped
    // count would pass the memory check.
    let (h, b, e, v, l) =
        (c.hidden as i128, c.bottleneck as i128, c.embedding as i128, vocab as i128, c.layers as i128);
    let n = match c.model.as_str() {
        "mlp" => v * h + h + h * h + h + h * v + v,
        "transformer" => (v + 1) * e + l * (4 * (e * e + e) + 8 * e * e + 5 * e + 4 * e) + e * v + v,
        "gru" => 2 * (v * h + h) + (v + 1) * e + 3 * (e * h + h * h + 2 * h) + 2 * (h * h + h) + h * v + 2 * v,
        _ => v * h + h + h * b + b + b * h + h + h * v + v,
    };
    n.clamp(0, i64::MAX as i128) as i64
}

/// A setting widened for the size arithmetic below (negative as 0): the
/// products of settings a role chooses are computed in 128 bits.
fn wide(x: i64) -> u128 {
    x.max(0) as u128
}

/// Weights, gradients and two Adam moments, plus one batch's dense inputs,
/// targets and logits (and the transformer's attention), in bytes.
pub fn memory_needed(c: &TrainConfig, vocab: i64) -> u64 {
    // In 128 bits, saturated: a product that wrapped round would let any
    // size through the memory check (every factor is the caller's).
    let (batch_size, vocab) = (wide(c.batch_size), wide(vocab));
    let params = wide(parameter_count(c, vocab as i64)) * 16;
    let batch = batch_size.saturating_mul(vocab).saturating_mul(16);
    let attention = match c.model.as_str() {
        "transformer" => batch_size
            .saturating_mul(wide(c.heads))
            .saturating_mul(wide(c.max_basket_items).saturating_mul(wide(c.max_basket_items)))
            .saturating_mul(12 * wide(c.layers)),
        // The histories' item embeddings, and their share of each item.
        "gru" => batch_size
            .saturating_mul(wide(c.history))
            .saturating_mul(wide(c.max_basket_items))
            .saturating_mul(wide(c.embedding) * 12)
            .saturating_add(batch_size.saturating_mul(vocab).saturating_mul(8)),
        _ => 0,
    };
    // The hidden layers' activations and their gradients, each kept for
    // the backward pass (the transformer's: every item's, in every layer).
    let activations = match c.model.as_str() {
        "transformer" => batch_size
            .saturating_mul(wide(c.max_basket_items))
            .saturating_mul(wide(c.embedding) * 6)
            .saturating_mul(wide(c.layers) * 8),
        _ => batch_size.saturating_mul(wide(c.hidden) * 3 + wide(c.bottleneck)).saturating_mul(8),
    };
    u64::try_from(params.saturating_add(batch).saturating_add(attention).saturating_add(activations))
        .unwrap_or(u64::MAX)
}

/// Floating-point operations a forward and backward pass costs per basket,
/// roughly: six per weight, and the transformer's attention over its items
/// (or the sequence model's over its history).
fn flops_per_basket(c: &TrainConfig, vocab: i64) -> u128 {
    let weights = wide(parameter_count(c, vocab)) * 6;
    let extra = match c.model.as_str() {
        "transformer" => {
            6 * wide(c.layers)
                * wide(c.max_basket_items)
                * (12 * wide(c.embedding) * wide(c.embedding) + wide(c.max_basket_items) * wide(c.embedding))
        }
        "gru" => 6 * wide(c.history) * wide(c.max_basket_items) * wide(c.embedding),
        _ => 0,
    };
    weights + extra
}

/// Most operations one part of a batch may cost (about a second on one
/// core): the defaults of every architecture fit whole batches in a part.
const PART_FLOPS: u128 = 20_000_000_000;

/// Baskets per part of a batch (see [`train`]): at least one, at most the
/// batch.
pub fn micro_batch(c: &TrainConfig, vocab: i64) -> usize {
    let rows = PART_FLOPS / flops_per_basket(c, vocab).max(1);
    rows.clamp(1, c.batch_size.max(1) as u128) as usize
}

fn pick_device(c: &TrainConfig) -> Result<Device, TrainError> {
    match c.device.as_str() {
        "cpu" => Ok(Device::Cpu),
        "cuda" if tch::Cuda::is_available() => Ok(Device::Cuda(0)),
        "cuda" => Err(TrainError::NoCuda),
        _ => Ok(Device::cuda_if_available()),
    }
}

/// A held-out case: the visible items, the hidden one, and the basket's
/// index (for its history).
type Case = (Vec<u32>, u32, usize);

/// Fixed validation cases: for each validation basket of two items or more,
/// one hidden item and the rest visible.
fn valid_cases(valid: &SparseBaskets, seed: u64) -> Vec<Case> {
    let mut rng = Rng::new(seed ^ 0x005E_ED0F_7E57);
    valid
        .usable()
        .into_iter()
        .map(|i| {
            let b = valid.basket(i);
            let h = rng.below(b.len());
            let visible: Vec<u32> = b.iter().enumerate().filter(|&(k, _)| k != h).map(|(_, &x)| x).collect();
            (visible, b[h], i)
        })
        .collect()
}

/// The earlier baskets of some examples, from a pool, as `history_batch` reads them.
fn histories_of<'a>(
    pool: &'a SparseBaskets,
    h: &Histories,
    examples: impl Iterator<Item = usize>,
) -> Vec<Vec<&'a [u32]>> {
    examples
        .map(|i| h.of(i).iter().filter(|&&k| (k as usize) < pool.len()).map(|&k| pool.basket(k as usize)).collect())
        .collect()
}

fn add_rank(m: &mut Metrics, rank: usize) {
    // `rank` is 0-based among the items the basket does not show.
    if rank < 5 {
        m.recall_at_5 += 1.0;
    }
    if rank < 10 {
        m.recall_at_10 += 1.0;
        m.ndcg_at_10 += 1.0 / ((rank + 2) as f64).log2();
    }
    if rank < 20 {
        m.recall_at_20 += 1.0;
    }
}

fn finish(m: &mut Metrics, n: usize) {
    let n = n.max(1) as f64;
    m.loss /= n;
    m.recall_at_5 /= n;
    m.recall_at_10 /= n;
    m.recall_at_20 /= n;
    m.ndcg_at_10 /= n;
}

/// Ranks by training popularity (ties by item index).
fn popularity(cases: &[Case], counts: &[u64]) -> Metrics {
    let mut order: Vec<u32> = (0..counts.len() as u32).collect();
    order.sort_by(|&a, &b| counts[b as usize].cmp(&counts[a as usize]).then(a.cmp(&b)));
    let mut m = Metrics { cases: cases.len(), ..Default::default() };
    for (visible, hidden, _) in cases {
        let rank = order.iter().filter(|i| !visible.contains(i)).position(|i| i == hidden).unwrap_or(usize::MAX);
        add_rank(&mut m, rank);
    }
    finish(&mut m, cases.len());
    m
}

/// The histories `evaluate` and `train` read: the pool and one set's histories.
pub type HistoryOf<'a> = Option<(&'a SparseBaskets, &'a Histories)>;

/// The metrics of `net` on `cases`; `None` when `stop` (asked before each
/// chunk) says to stop.
fn evaluate(
    net: &dyn BasketNet,
    c: &TrainConfig,
    vocab: i64,
    cases: &[Case],
    history: HistoryOf<'_>,
    device: Device,
    stop: &mut dyn FnMut() -> bool,
) -> Option<Metrics> {
    let mut m = Metrics { cases: cases.len(), ..Default::default() };
    // In parts no larger than training's (see `micro_batch`): a cancel is
    // answered between them.
    let rows = micro_batch(c, vocab);
    tch::no_grad(|| {
        for chunk in cases.chunks(rows) {
            if stop() {
                return None;
            }
            let visible: Vec<&[u32]> = chunk.iter().map(|(v, _, _)| v.as_slice()).collect();
            let mut b = batch(&visible, vocab, c.max_basket_items, device);
            if let Some((pool, h)) = history {
                let rows = histories_of(pool, h, chunk.iter().map(|(_, _, i)| *i));
                b.history = Some(history_batch(&rows, vocab, c.history, c.max_basket_items, device));
            }
            let logits = net.logits(&b, false);
            let mut target = vec![0f32; chunk.len() * vocab as usize];
            for (r, (_, h, _)) in chunk.iter().enumerate() {
                target[r * vocab as usize + *h as usize] = 1.0;
            }
            let target = Tensor::from_slice(&target).view([chunk.len() as i64, vocab]).to_device(device);
            let loss = logits.binary_cross_entropy_with_logits::<Tensor>(&target, None, None, tch::Reduction::Mean);
            m.loss += loss.double_value(&[]) * chunk.len() as f64;
            // The visible items are not candidates.
            let scores = logits.masked_fill(&b.multi_hot.gt(0.5), f64::NEG_INFINITY).to_device(Device::Cpu);
            let (_, top) = scores.topk(20.min(vocab), -1, true, true);
            let top: Vec<i64> = Vec::<i64>::try_from(top.flatten(0, -1)).unwrap_or_default();
            let k = 20.min(vocab) as usize;
            for (r, (_, h, _)) in chunk.iter().enumerate() {
                let rank = top[r * k..(r + 1) * k].iter().position(|&i| i == *h as i64).unwrap_or(usize::MAX);
                add_rank(&mut m, rank);
            }
        }
        Some(())
    })?;
    finish(&mut m, cases.len());
    Some(m)
}

/// Trains a model; `on_progress` is called after every batch (and with the
/// validation metrics after every epoch) and may stop training.
pub fn train(
    c: &TrainConfig,
    data: &TrainData,
    on_progress: &mut dyn FnMut(&Progress) -> Control,
) -> Result<Outcome, TrainError> {
    c.validate().map_err(TrainError::Config)?;
    let history = needs_history(c, data.history.as_ref())?;
    let usable = data.train.usable();
    let cases = valid_cases(&data.valid, c.seed as u64);
    if usable.len() < 10 || cases.is_empty() {
        return Err(TrainError::TooFewBaskets { train: usable.len(), valid: cases.len() });
    }
    let needed = memory_needed(c, data.vocab);
    if needed > c.memory_limit {
        return Err(TrainError::TooLarge { needed, limit: c.memory_limit });
    }
    let device = pick_device(c)?;
    tch::set_num_threads(c.threads as i32);
    tch::manual_seed(c.seed);
    let t0 = Instant::now();
    let vs = nn::VarStore::new(device);
    let net = build(&vs.root(), data.vocab, c);
    let mut opt = nn::Adam { wd: c.weight_decay, ..Default::default() }.build(&vs, c.learning_rate)?;
    let popularity = popularity(&cases, &data.item_counts);
    let batches = usable.len().div_ceil(c.batch_size as usize);
    let micro = micro_batch(c, data.vocab);
    let mut curves: Vec<EpochStats> = Vec::new();
    let mut best: Option<(i64, Metrics, Vec<u8>)> = None;
    let mut since_best = 0;
    let mut seen = 0usize;
    for epoch in 1..=c.epochs {
        let te = Instant::now();
        let mut rng = Rng::new(c.seed as u64 ^ (epoch as u64).wrapping_mul(0x1000_0001));
        let mut order = usable.clone();
        rng.shuffle(&mut order);
        let mut loss_sum = 0.0;
        for (bi, chunk) in order.chunks(c.batch_size as usize).enumerate() {
            let masked: Vec<_> = chunk.iter().map(|&i| mask(data.train.basket(i), c.mask_rate, &mut rng)).collect();
            let progress = |loss_sum: f64, rows: usize| {
                let elapsed = t0.elapsed().as_secs_f64();
                let done = (epoch - 1) as f64 * batches as f64 + (bi + 1) as f64;
                let total = c.epochs as f64 * batches as f64;
                Progress {
                    epoch,
                    epochs: c.epochs,
                    batch: bi + 1,
                    batches,
                    train_loss: loss_sum / ((bi * c.batch_size as usize + rows).max(1) as f64),
                    eta_seconds: elapsed / done * (total - done),
                    valid: None,
                }
            };
            // One optimizer step per batch, its gradient summed over parts
            // of at most `micro` baskets: the same step, and a cancel is
            // answered between parts, however large a batch a role chose.
            opt.zero_grad();
            for start in (0..chunk.len()).step_by(micro) {
                let end = (start + micro).min(chunk.len());
                let (part, part_masked) = (&chunk[start..end], &masked[start..end]);
                let visible: Vec<&[u32]> = part_masked.iter().map(|m| m.visible.as_slice()).collect();
                let mut b = batch(&visible, data.vocab, c.max_basket_items, device);
                if let Some(h) = history {
                    let rows = histories_of(&h.pool, &h.train, part.iter().copied());
                    b.history = Some(history_batch(&rows, data.vocab, c.history, c.max_basket_items, device));
                }
                let mut target = vec![0f32; part.len() * data.vocab as usize];
                for (r, (m, &i)) in part_masked.iter().zip(part).enumerate() {
                    let wanted: &[u32] = if c.model == "autoencoder" { data.train.basket(i) } else { &m.hidden };
                    for &h in wanted {
                        target[r * data.vocab as usize + h as usize] = 1.0;
                    }
                }
                let target = Tensor::from_slice(&target).view([part.len() as i64, data.vocab]).to_device(device);
                let logits = net.logits(&b, true);
                let loss = logits.binary_cross_entropy_with_logits::<Tensor>(&target, None, None, tch::Reduction::Mean);
                (&loss * (part.len() as f64 / chunk.len() as f64)).backward();
                loss_sum += loss.double_value(&[]) * part.len() as f64;
                if end < chunk.len() && on_progress(&progress(loss_sum, end)) == Control::Stop {
                    return Err(TrainError::Cancelled);
                }
            }
            opt.step();
            seen += chunk.len();
            if on_progress(&progress(loss_sum, chunk.len())) == Control::Stop {
                return Err(TrainError::Cancelled);
            }
        }
        // The validation pass answers a cancel too, between its batches.
        let train_loss = loss_sum / usable.len() as f64;
        let mut stop = || {
            let p = Progress {
                epoch,
                epochs: c.epochs,
                batch: batches,
                batches,
                train_loss,
                eta_seconds: 0.0,
                valid: None,
            };
            on_progress(&p) == Control::Stop
        };
        let valid =
            evaluate(net.as_ref(), c, data.vocab, &cases, history.map(|h| (&h.pool, &h.valid)), device, &mut stop)
                .ok_or(TrainError::Cancelled)?;
        let stats = EpochStats { epoch, train_loss, valid: valid.clone(), seconds: te.elapsed().as_secs_f64() };
        let elapsed = t0.elapsed().as_secs_f64();
        let p = Progress {
            epoch,
            epochs: c.epochs,
            batch: batches,
            batches,
            train_loss: stats.train_loss,
            eta_seconds: elapsed / epoch as f64 * (c.epochs - epoch) as f64,
            valid: Some(valid.clone()),
        };
        curves.push(stats);
        if on_progress(&p) == Control::Stop {
            return Err(TrainError::Cancelled);
        }
        if best.as_ref().is_none_or(|(_, m, _)| valid.recall_at_10 > m.recall_at_10) {
            let w = crate::weights::save(&vs)?;
            best = Some((epoch, valid, w));
            since_best = 0;
        } else {
            since_best += 1;
            if since_best >= c.patience {
                break;
            }
        }
    }
    let (best_epoch, metrics, weights) = best.expect("at least one epoch");
    let seconds = t0.elapsed().as_secs_f64();
    let report = Report {
        model: c.model.clone(),
        device: format!("{device:?}").to_lowercase(),
        vocab: data.vocab,
        parameters: vs.trainable_variables().iter().map(|t| t.numel() as i64).sum(),
        train_baskets: usable.len(),
        valid_baskets: cases.len(),
        epochs_run: curves.len() as i64,
        best_epoch,
        curves,
        metrics,
        popularity,
        seconds,
        baskets_per_second: seen as f64 / seconds,
    };
    Ok(Outcome { report, weights })
}

/// The histories the model reads: the `gru` model's, which it cannot do
/// without; none for the others.
fn needs_history<'a>(c: &TrainConfig, h: Option<&'a HistoryData>) -> Result<Option<&'a HistoryData>, TrainError> {
    match (c.model.as_str(), h) {
        ("gru", Some(h)) => Ok(Some(h)),
        ("gru", None) => Err(TrainError::Config(ConfigError {
            name: "model".into(),
            value: "gru".into(),
            expected: "'mlp', 'autoencoder' or 'transformer', or customers' earlier baskets for the sequence model \
                       'gru'"
                .into(),
        })),
        _ => Ok(None),
    }
}

/// A trained model loaded for scoring.
pub struct Scorer {
    _vs: nn::VarStore,
    net: Box<dyn BasketNet>,
    config: TrainConfig,
    vocab: i64,
}

impl Scorer {
    /// Rebuilds the network of `config` over `vocab` items and loads the
    /// weights `rar_train` saved. Always on the CPU: scoring a few baskets is
    /// latency-bound, and the CPU needs no CUDA context in the backend.
    pub fn load(config: &TrainConfig, vocab: i64, weights: &[u8]) -> Result<Scorer, TrainError> {
        config.validate().map_err(TrainError::Config)?;
        if vocab < 1 {
            // The registry's row may have been edited: no network has no items.
            return Err(TrainError::Torch("the model's vocabulary is empty".into()));
        }
        // The same budget as training, checked before anything is built:
        // settings read back from the registry may have been edited.
        let needed = memory_needed(config, vocab);
        if needed > config.memory_limit {
            return Err(TrainError::TooLarge { needed, limit: config.memory_limit });
        }
        tch::set_num_threads(config.threads as i32);
        let mut vs = nn::VarStore::new(Device::Cpu);
        let net = build(&vs.root(), vocab, config);
        crate::weights::load(&mut vs, weights)?;
        Ok(Scorer { _vs: vs, net, config: config.clone(), vocab })
    }

    /// Items in the model's vocabulary.
    pub fn vocab(&self) -> i64 {
        self.vocab
    }

    /// For each basket, the probability of every vocabulary item
    /// (`sigmoid(logit)`), row after row. The `gru` model reads each
    /// basket's earlier baskets from `history` (basket `i`'s are
    /// `history.1.of(i)`, indices into the pool `history.0`); without them,
    /// as those of a customer without earlier baskets. The basket-only
    /// models ignore `history`.
    ///
    /// Scored in parts no larger than training's (`micro_batch`, at most
    /// the model's `batch_size`): the memory check made when it was loaded
    /// holds for any number of baskets.
    pub fn score(&self, baskets: &[&[u32]], history: HistoryOf<'_>) -> Vec<f32> {
        let rows = micro_batch(&self.config, self.vocab);
        let mut out = Vec::with_capacity(baskets.len() * self.vocab as usize);
        for (k, part) in baskets.chunks(rows).enumerate() {
            out.extend(self.score_part(part, k * rows, history));
        }
        out
    }

    /// [`Scorer::score`] of the baskets `start..` of a call.
    fn score_part(&self, baskets: &[&[u32]], start: usize, history: HistoryOf<'_>) -> Vec<f32> {
        if baskets.is_empty() {
            return Vec::new();
        }
        tch::no_grad(|| {
            let mut b = batch(baskets, self.vocab, self.config.max_basket_items, Device::Cpu);
            if self.config.model == "gru" {
                let rows: Vec<Vec<&[u32]>> = match history {
                    Some((pool, h)) => histories_of(pool, h, start..start + baskets.len()),
                    None => vec![Vec::new(); baskets.len()],
                };
                b.history = Some(history_batch(
                    &rows,
                    self.vocab,
                    self.config.history,
                    self.config.max_basket_items,
                    Device::Cpu,
                ));
            }
            let p = self.net.logits(&b, false).sigmoid().flatten(0, -1);
            Vec::<f32>::try_from(p).unwrap_or_default()
        })
    }

    /// The validation protocol of training (one hidden item per basket of
    /// two or more, chosen with the model's seed) on other baskets, such as
    /// a test split, with their histories for the `gru` model; and the
    /// popularity baseline of `item_counts` on the same cases.
    pub fn metrics(&self, baskets: &SparseBaskets, history: HistoryOf<'_>, item_counts: &[u64]) -> (Metrics, Metrics) {
        let cases = valid_cases(baskets, self.config.seed as u64);
        let history = if self.config.model == "gru" { history } else { None };
        let m = evaluate(self.net.as_ref(), &self.config, self.vocab, &cases, history, Device::Cpu, &mut || false)
            .unwrap_or_default();
        (m, popularity(&cases, item_counts))
    }
}
