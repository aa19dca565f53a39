"""Bilingual (Chinese/English) text classifier over the four focus industries.

Patents without usable IPC/CPC codes (and Chinese records whose codes are unknown) are
placed in the focus industries from their title and abstract. The model learns from
text whose label is known from codes: real records labelled by the taxonomy rules
(:func:`pipeline.classify.rules.rule_labels`) and the IPC titles themselves, in both
languages, labelled through the branch of their symbol
(:func:`pipeline.classify.rules.symbol_labels`).

Design, decided by evaluation (the train stage runs it, ``patnav train``; the functions
are in :mod:`pipeline.classify.evaluation`, the figures in ``metrics/train.json``):

* Tokens: Chinese through jieba's fixed dictionary and algorithm (the jieba-rs binding
  ``rjieba``, identical tokens to jieba and ~13× faster; a private instance, HMM off, so
  the vocabulary cannot depend on unseen text); English with spaCy's English rules
  (lower case; spaCy's stop and number words, punctuation and numbers dropped; plural
  ``s`` folded) applied by a regular expression — the spaCy blank tokenizer itself
  (``en_tokenizer="spacy"``) gives the same tokens (99.7 % agreement on the real
  records) at a tenth of the speed, below the 5,000 abstracts/s target. Language per
  text from its share of CJK characters.
* Features: TF-IDF (sublinear) of word uni+bi-grams. Character n-grams of Chinese text
  (``char_wb`` 2–4 or 1–3 over CJK runs) were tried and did not help on the Chinese dev
  set (macro-F1 0.48 with, 0.57 without, at threshold 0.1), at 3× the fitting time; they
  stay available (``char_langs=("zh",)``). Bigrams matter (NEV recall drops without).
* Training text beyond the records: the IPC titles, and the taxonomy's own branch names,
  descriptions and keywords (:func:`taxonomy_texts`) — today's words ("电动汽车",
  "动力电池") that the formal IPC titles lack; without them Chinese NEV is never found.
* Model: one ``SGDClassifier(loss="log_loss")`` per industry (one-vs-rest; logistic
  regression was as accurate and 2–4× slower); one model for both languages (separate
  per-language models were no better on either language). Decision scores are
  Platt-calibrated on out-of-fold scores of the real records only, because the IPC
  titles that dominate training have another base rate than real patents.
* Thresholds per industry, and per language, chosen by the train stage on validation
  records (never on a test set) and stored with the model.

The estimator follows scikit-learn conventions (constructor stores parameters, ``fit``
learns ``*_`` attributes, ``random_state`` instead of global seeds) and is persisted with
skops (:func:`save_model` / :func:`load_model`), never with raw pickle.
"""

from __future__ import annotations

import copy
import functools
import gzip
import logging
import numbers
import re
import warnings
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

import numpy as np
import pandas as pd
import scipy.sparse as sp
from sklearn.base import BaseEstimator
from sklearn.exceptions import ConvergenceWarning
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression, SGDClassifier
from sklearn.model_selection import KFold

from ..yamlfile import parse_yaml
from ..errors import ClassifierInputError, ConfigError, ModelFileError
from ..ingest.merge import primary_source

__all__ = [
    "INDUSTRIES",
    "TRUSTED_TYPES",
    "TextClassifier",
    "detect_language",
    "tokenize",
    "build_training_set",
    "condition_terms",
    "off_scope_terms",
    "taxonomy_texts",
    "load_ipc_titles",
    "save_model",
    "load_model",
    "evaluate",
]

INDUSTRIES = ("it", "manufacturing", "biomedicine", "nev")

# Types a saved TextClassifier may contain; load_model refuses a file holding any other.
TRUSTED_TYPES = [
    "pipeline.classify.text.TextClassifier",
    "sklearn.feature_extraction.text.TfidfVectorizer",
    "sklearn.feature_extraction.text.TfidfTransformer",
    "numpy.float32",
    "numpy.float64",
    "numpy.int64",
    "numpy.dtype",
    "numpy.ndarray",
    "builtins.dict",
    "builtins.list",
    "builtins.tuple",
    "builtins.str",
    "builtins.int",
    "builtins.float",
    "builtins.bool",
    "builtins.NoneType",
]


# ---------------------------------------------------------------------------------------
# Language and tokens

_CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
_CJK_RUNS = re.compile(r"[^\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+")
_LATIN_WORD = re.compile(r"^[a-z][a-z0-9\-]*$")
_SPACE = re.compile(r"\s+")
# A Chinese word bigram is stored as "工业 机器人"; shown as the text has it.
_CJK_GAP = re.compile(r"(?<=[\u3400-\u9fff]) (?=[\u3400-\u9fff])")


def _as_in_text(term: str, text: str) -> str:
    joined = _CJK_GAP.sub("", term)
    return joined if joined != term and joined in text else term

# Function words and patent boilerplate: frequent in every industry, never a clue.
_ZH_STOP = frozenset(
    """的 了 和 与 及 或 等 其 之 而 且 并 也 被 把 从 向 以 为 是 在 对 将 由 于 中 上 下 内 外 该 各 每 个 一 二 三
    一种 一个 所述 本发明 本申请 本实用新型 本公开 发明 申请 实施例 公开 涉及 包括 包含 其中 进行 用于 通过 采用
    具有 设置 设有 所 以及 及其 其它 其他 可以 能够 使得 使 从而 进而 提供 实现 用 即 如 若 当 时 后 前 可 有 无
    不 至少 多个 若干 第一 第二 第三 步骤 特征 权利 要求 所示 如下 以下 上述 相应 相对 分别 同时 一端 另一端""".split()
)


@functools.lru_cache(maxsize=1)
def _english():
    """The spaCy blank English tokenizer (no trained pipeline needed)."""
    import spacy

    return spacy.blank("en")


@functools.lru_cache(maxsize=2)
def _segmenter(name: str = "rjieba"):
    """A private Chinese word segmenter on jieba's default dictionary, HMM off, built once.

    ``"rjieba"`` is the jieba-rs binding: the same dictionary and algorithm, identical
    tokens on 20,000 real Chinese titles and abstracts, ~13× faster (needed for 2,000
    Chinese abstracts/s); ``"jieba"`` is jieba itself. A private instance is not affected
    by words other code adds to a global dictionary, so tokens depend only on the text.
    """
    if name == "rjieba":
        import rjieba

        tk = rjieba.Jieba()
        return lambda text: tk.cut(text, False)
    if name == "jieba":
        import jieba

        jieba.setLogLevel(logging.WARNING)
        tk = jieba.Tokenizer()
        tk.initialize()
        return lambda text: tk.lcut(text, HMM=False)
    raise ConfigError(f"zh_tokenizer must be 'rjieba' or 'jieba', not {name!r}")


def detect_language(text: str | None, *, zh_share: float = 0.2) -> str:
    """``"zh"`` if at least ``zh_share`` of the non-space characters are CJK, else ``"en"``.

    Examples
    --------
    >>> detect_language("一种电动汽车充电装置")
    'zh'
    >>> detect_language("Battery pack for an electric vehicle")
    'en'
    >>> detect_language("")
    'en'
    """
    if not text:
        return "en"
    chars = len(text) - text.count(" ")
    return "zh" if chars and len(_CJK.findall(text)) >= zh_share * chars else "en"


def _fold_plural(word: str) -> str:
    # No lemmatiser offline: fold the regular plural so "vehicles" meets "vehicle".
    if len(word) > 4 and word.endswith("s") and not word.endswith(("ss", "us", "is", "ous")):
        return word[:-3] + "y" if word.endswith("ies") else word[:-1]
    return word


@functools.lru_cache(maxsize=1)
def _en_stop() -> frozenset:
    """spaCy's English stop words plus its number words (what ``like_num`` drops)."""
    from spacy.lang.en.lex_attrs import _num_words, _ordinal_words
    from spacy.lang.en.stop_words import STOP_WORDS

    return frozenset(STOP_WORDS) | frozenset(_num_words) | frozenset(_ordinal_words)


def _tokens_en_spacy(doc) -> list[str]:
    stop = _en_stop()
    out = []
    for tok in doc:
        if tok.is_space or tok.is_punct or tok.like_num or tok.is_stop:
            continue
        w = tok.lower_
        if len(w) < 2 or not _LATIN_WORD.match(w) or w in stop:
            continue
        out.append(_fold_plural(w))
    return out


_EN_WORD = re.compile(r"[a-z][a-z0-9]*")


def _tokens_en_regex(text: str) -> list[str]:
    # The same rules as the spaCy path (lower case, spaCy's stop and number words,
    # no punctuation or numbers), 10× faster: on the real English records the two agree
    # on 99.7 % of tokens; the regex also splits "speed-" and "tr-2" at the hyphen.
    stop = _en_stop()
    return [_fold_plural(w) for w in _EN_WORD.findall(text.lower()) if len(w) > 1 and w not in stop]


def _tokens_zh(text: str, segmenter: str = "rjieba") -> list[str]:
    out = []
    for tok in _segmenter(segmenter)(text):
        tok = tok.strip()
        if not tok:
            continue
        if _CJK.search(tok):
            if tok not in _ZH_STOP:
                out.append(tok)
        else:
            w = tok.lower()
            if len(w) >= 2 and _LATIN_WORD.match(w):
                out.append(w)
    return out


def tokenize(text: str | None, lang: str | None = None, *, en_tokenizer: str = "regex",
             zh_tokenizer: str = "rjieba") -> list[str]:
    """Word tokens of ``text`` as the classifier sees them.

    Parameters
    ----------
    text : str or None
        One title/abstract; ``None`` gives no tokens.
    lang : {"en", "zh"}, optional
        Detected with :func:`detect_language` when omitted.
    en_tokenizer : {"regex", "spacy"}
        English: a regular expression applying spaCy's English rules (default; fast) or
        the spaCy blank ``en`` tokenizer itself.
    zh_tokenizer : {"rjieba", "jieba"}
        Chinese word segmentation: jieba's dictionary and algorithm through the jieba-rs
        binding (default; same tokens, faster) or jieba itself.

    Examples
    --------
    >>> tokenize("Lithium-ion batteries for electric vehicles")
    ['lithium', 'ion', 'battery', 'electric', 'vehicle']
    >>> tokenize("一种锂离子电池及其制备方法")
    ['锂离子', '电池', '制备', '方法']
    """
    if not text:
        return []
    lang = lang or detect_language(text)
    if lang == "zh":
        return _tokens_zh(text, zh_tokenizer)
    if en_tokenizer == "spacy":
        return _tokens_en_spacy(_english().tokenizer(text))
    if en_tokenizer != "regex":
        raise ConfigError(f"en_tokenizer must be 'regex' or 'spacy', not {en_tokenizer!r}")
    return _tokens_en_regex(text)


def _prepare(texts: Sequence[str | None], en_tokenizer: str = "regex",
             zh_tokenizer: str = "rjieba") -> tuple[list[str], np.ndarray, list[str]]:
    """Texts → (space-joined tokens, language per text, raw text); the slow part, done once."""
    if en_tokenizer not in ("regex", "spacy"):
        raise ConfigError(f"en_tokenizer must be 'regex' or 'spacy', not {en_tokenizer!r}")
    raw = ["" if t is None or (isinstance(t, float) and np.isnan(t)) else str(t) for t in texts]
    langs = np.array([detect_language(t) for t in raw], dtype=object)
    joined = [""] * len(raw)
    if en_tokenizer == "spacy":
        en_idx = [i for i, lg in enumerate(langs) if lg == "en"]
        for i, doc in zip(en_idx, _english().tokenizer.pipe(raw[i] for i in en_idx), strict=True):
            joined[i] = " ".join(_tokens_en_spacy(doc))
    for i, lg in enumerate(langs):
        if lg == "zh":
            joined[i] = " ".join(_tokens_zh(raw[i], zh_tokenizer))
        elif en_tokenizer == "regex":
            joined[i] = " ".join(_tokens_en_regex(raw[i]))
    return joined, langs, raw


def _cjk_runs(text: str) -> str:
    # char_wb then makes n-grams inside runs of Chinese characters only.
    return _CJK_RUNS.sub(" ", text).strip()


# ---------------------------------------------------------------------------------------
# The estimator


def _label_matrix(labels, industries: Sequence[str], n: int) -> np.ndarray:
    if isinstance(labels, pd.DataFrame):
        missing = [c for c in industries if c not in labels.columns]
        if missing:
            raise ClassifierInputError(f"labels lack industry column(s): {', '.join(missing)}")
        y = labels[list(industries)].to_numpy()
    else:
        y = np.asarray(labels)
    if y.ndim != 2 or y.shape != (n, len(industries)):
        raise ClassifierInputError(f"labels must be {n} rows × {len(industries)} industries, got shape {y.shape}")
    try:
        y = y.astype(float)
    except (TypeError, ValueError):
        y = None
    if y is None or not np.isin(y, (0.0, 1.0)).all():
        raise ClassifierInputError("labels must be 0/1 (one column per industry)")
    return y.astype(np.int8)


def _sigmoid(z: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-np.clip(z, -35, 35)))


class TextClassifier(BaseEstimator):
    """Multi-label industry classifier for Chinese and English patent text.

    Parameters
    ----------
    random_state : int
        Seed of the cross-fitting folds and of SGD; the same seed and data give the same
        probabilities.
    thresholds : dict, optional
        Industry → probability threshold used by :meth:`predict` and :meth:`explain`
        (default 0.5 each), or language (``"en"``, ``"zh"``) → such a dict; flat entries
        apply to languages not named. The train stage sets them per language from
        validation records; ``params.yaml`` ``classify.thresholds`` may override them.
    industries : tuple of str
        Label columns, in order.
    per_language : bool
        ``False``: one model over both languages (shared vocabulary space, disjoint in
        practice). ``True``: separate vectorisers, models and calibration per language.
    word_ngrams, char_ngrams : tuple of int
        n-gram ranges of the word and character (``char_wb``) channels.
    char_langs : tuple of str
        Languages whose CJK runs feed the character channel; ``()`` (default) switches
        it off — it did not help on the Chinese dev set.
    char_weight : float
        Weight of the character block relative to the word block.
    min_df : int
        Minimum document frequency of a term.
    max_features : int or None
        Vocabulary cap per channel (most frequent terms).
    estimator : {"sgd", "logreg"}
        ``SGDClassifier(loss="log_loss")`` (default: as accurate here, 2–4× faster) or
        ``LogisticRegression`` (liblinear, L2).
    C : float
        Inverse regularisation strength of ``logreg``.
    alpha : float
        Regularisation of ``sgd``.
    class_weight : {"balanced", None}
        Passed to the per-industry models.
    calibration : {"platt", "none"}
        ``"platt"``: a sigmoid fitted on out-of-fold decision scores of the rows marked
        for calibration (see :meth:`fit`); ``"none"``: the model's own probabilities.
    cv : int
        Folds of the cross-fitting used for calibration.
    en_tokenizer : {"regex", "spacy"}
        English tokenisation (see :func:`tokenize`): the regex applies spaCy's English
        rules at ~40k texts/s; the spaCy blank tokenizer manages ~700 abstracts/s on one
        core here, below the 5,000/s target.
    zh_tokenizer : {"rjieba", "jieba"}
        Chinese segmentation (see :func:`tokenize`); models saved before this option
        existed read Chinese with jieba itself (identical tokens).

    Attributes
    ----------
    vectorizers_ : dict
        Model key (``"all"`` or a language) → ``(word vectoriser, char vectoriser or None)``.
    coef_, intercept_ : dict
        Model key → array (n_industries × n_features) / (n_industries,).
    calibration_ : dict
        Model key → array (n_industries × 2): slope and offset of the Platt sigmoid.
    n_features_ : dict
        Model key → number of features.

    Examples
    --------
    >>> texts = ["electric vehicle battery charging", "vehicle battery pack",
    ...          "neural network image recognition", "wireless network terminal",
    ...          "pharmaceutical compound for treating cancer", "antibody vaccine",
    ...          "industrial robot arm welding", "machine tool spindle"]
    >>> y = [[0, 0, 0, 1], [0, 0, 0, 1], [1, 0, 0, 0], [1, 0, 0, 0],
    ...      [0, 0, 1, 0], [0, 0, 1, 0], [0, 1, 0, 0], [0, 1, 0, 0]]
    >>> clf = TextClassifier(min_df=1, calibration="none", C=10).fit(texts, y)
    >>> clf.predict(["battery for an electric vehicle"]).iloc[0].tolist()
    [0, 0, 0, 1]
    """

    def __init__(
        self,
        *,
        random_state: int = 0,
        thresholds: Mapping[str, float] | None = None,
        industries: tuple[str, ...] = INDUSTRIES,
        per_language: bool = False,
        word_ngrams: tuple[int, int] = (1, 2),
        char_ngrams: tuple[int, int] = (2, 4),
        char_langs: tuple[str, ...] = (),
        char_weight: float = 1.0,
        min_df: int = 2,
        max_features: int | None = 400_000,
        estimator: str = "sgd",
        C: float = 4.0,
        alpha: float = 1e-6,
        class_weight: str | None = None,
        calibration: str = "platt",
        cv: int = 3,
        en_tokenizer: str = "regex",
        zh_tokenizer: str = "rjieba",
    ):
        self.random_state = random_state
        self.thresholds = thresholds
        self.industries = industries
        self.per_language = per_language
        self.word_ngrams = word_ngrams
        self.char_ngrams = char_ngrams
        self.char_langs = char_langs
        self.char_weight = char_weight
        self.min_df = min_df
        self.max_features = max_features
        self.estimator = estimator
        self.C = C
        self.alpha = alpha
        self.class_weight = class_weight
        self.calibration = calibration
        self.cv = cv
        self.en_tokenizer = en_tokenizer
        self.zh_tokenizer = zh_tokenizer

    # -- helpers ------------------------------------------------------------------------

    def _keys(self, langs: np.ndarray) -> np.ndarray:
        if not self.per_language:
            return np.full(len(langs), "all", dtype=object)
        return langs

    def _threshold_table(self) -> dict[str, np.ndarray]:
        """Language → threshold per industry (``"*"`` for languages not named).

        Raises :class:`~pipeline.errors.ConfigError` naming an unknown industry or a
        threshold that is not a probability.
        """
        if self.thresholds is not None and not isinstance(self.thresholds, Mapping):
            raise ConfigError(f"thresholds must map industries (or languages to such a mapping) to probabilities, "
                              f"not {self.thresholds!r}")
        given = dict(self.thresholds or {})
        per_lang = {k: v for k, v in given.items() if isinstance(v, Mapping)}
        flat = {k: v for k, v in given.items() if not isinstance(v, Mapping)}
        out = {}
        for lang, spec in [("*", flat), *per_lang.items()]:
            where = "thresholds" if lang == "*" else f"thresholds.{lang}"
            unknown = set(spec) - set(self.industries)
            if unknown:
                raise ConfigError(f"{where} name unknown industries: {', '.join(sorted(map(str, unknown)))} "
                                  f"(the model's industries: {', '.join(self.industries)})")
            for ind, value in spec.items():
                if isinstance(value, bool) or not isinstance(value, numbers.Real) or not 0 <= value <= 1:
                    raise ConfigError(f"{where}.{ind} must be a probability from 0 to 1, not {value!r}")
            th = {**dict.fromkeys(self.industries, 0.5), **flat, **spec}
            out[lang] = np.array([float(th[i]) for i in self.industries])
        return out

    def _thresholds_for(self, langs: np.ndarray) -> np.ndarray:
        """Thresholds per text (rows) and industry (columns), by the text's language."""
        if not len(langs):
            return np.empty((0, len(self.industries)))
        table = self._threshold_table()
        keys = list(table)
        row = {k: i for i, k in enumerate(keys)}
        star = row["*"]
        which = np.fromiter((row.get(lg, star) for lg in langs), dtype=np.intp, count=len(langs))
        return np.vstack([table[k] for k in keys])[which].reshape(len(langs), len(self.industries))

    def _new_vectorizers(self, langs_present: Iterable[str]):
        word = TfidfVectorizer(
            token_pattern=r"[^ ]+", lowercase=False, ngram_range=tuple(self.word_ngrams), min_df=self.min_df,
            max_features=self.max_features, sublinear_tf=True, dtype=np.float32,
        )
        char = None
        if set(self.char_langs) & set(langs_present):
            char = TfidfVectorizer(
                analyzer="char_wb", ngram_range=tuple(self.char_ngrams), min_df=self.min_df,
                max_features=self.max_features, sublinear_tf=True, dtype=np.float32,
            )
        return word, char

    def _char_input(self, raw: list[str], langs: np.ndarray) -> list[str]:
        return [_cjk_runs(t) if lg in self.char_langs else "" for t, lg in zip(raw, langs, strict=True)]

    def _transform(self, key: str, joined: list[str], raw: list[str], langs: np.ndarray, *, fit: bool = False):
        word, char = self.vectorizers_[key]
        xw = word.fit_transform(joined) if fit else word.transform(joined)
        if char is None:
            return xw.tocsr()
        chars = self._char_input(raw, langs)
        xc = char.fit_transform(chars) if fit else char.transform(chars)
        return sp.hstack([xw, xc * np.float32(self.char_weight)], format="csr", dtype=np.float32)

    def _fit_linear(self, X, y: np.ndarray, w: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
        """One binary model per industry → (coef, intercept)."""
        coef = np.zeros((y.shape[1], X.shape[1]), dtype=np.float64)
        intercept = np.zeros(y.shape[1])
        for j in range(y.shape[1]):
            yj = y[:, j]
            if yj.min() == yj.max():  # one class only: a constant model says so honestly
                p = np.clip(yj.mean(), 1e-4, 1 - 1e-4)
                intercept[j] = np.log(p / (1 - p))
                continue
            if self.estimator == "sgd":
                m = SGDClassifier(loss="log_loss", alpha=self.alpha, max_iter=50, tol=1e-4,
                                  class_weight=self.class_weight, random_state=self.random_state)
            elif self.estimator == "logreg":
                m = LogisticRegression(C=self.C, solver="liblinear", class_weight=self.class_weight,
                                       random_state=self.random_state, max_iter=200)
            else:
                raise ConfigError(f"estimator must be 'logreg' or 'sgd', not {self.estimator!r}")
            with warnings.catch_warnings():
                # SGD may stop at max_iter while the loss still moves by ~tol; the scores
                # are recalibrated afterwards, and evaluation showed no gain from more epochs.
                warnings.simplefilter("ignore", ConvergenceWarning)
                m.fit(X, yj, sample_weight=w)
            coef[j] = m.coef_[0]
            intercept[j] = m.intercept_[0]
        return coef.astype(np.float32), intercept

    def _platt(self, scores: np.ndarray, y: np.ndarray) -> np.ndarray:
        """Per-industry sigmoid (slope, offset) fitted on out-of-fold scores."""
        out = np.tile([1.0, 0.0], (y.shape[1], 1))
        for j in range(y.shape[1]):
            if y[:, j].min() == y[:, j].max():
                continue
            lr = LogisticRegression(C=1e4, solver="lbfgs")
            lr.fit(scores[:, [j]], y[:, j])
            out[j] = lr.coef_[0, 0], lr.intercept_[0]
        return out

    # -- public API ---------------------------------------------------------------------

    def fit(self, texts: Sequence[str], labels, *, sample_weight=None, calibrate_on=None) -> TextClassifier:
        """Learn vocabularies, per-industry models and the calibration.

        Parameters
        ----------
        texts : sequence of str
            Titles/abstracts (Chinese or English).
        labels : DataFrame or array-like
            0/1 per industry: a DataFrame with a column per industry, or an array of shape
            (n_texts, n_industries) in the order of ``industries``.
        sample_weight : array-like, optional
            Weight per text (e.g. IPC titles lighter than real records).
        calibrate_on : array-like of bool, optional
            Rows whose out-of-fold scores fit the Platt sigmoid (default: all rows). Use
            the real records: they, not the IPC titles, look like what will be predicted.
            With ``per_language`` a language without such rows uses all its rows.

        Returns
        -------
        self

        Raises
        ------
        pipeline.errors.ConfigError
            An option has a value this class cannot use (:meth:`check_params`).
        pipeline.errors.ClassifierInputError
            No text, or labels that are not 0/1 per industry for every text.
        """
        self.check_params()  # fail before the slow part on a bad option
        n = len(texts)
        if n == 0:
            raise ClassifierInputError("cannot fit on an empty training set")
        y = _label_matrix(labels, self.industries, n)
        w = None if sample_weight is None else np.asarray(sample_weight, dtype=float)
        cal = np.ones(n, dtype=bool) if calibrate_on is None else np.asarray(calibrate_on, dtype=bool)
        joined, langs, raw = _prepare(texts, self.en_tokenizer, getattr(self, "zh_tokenizer", "jieba"))
        keys = self._keys(langs)
        self.vectorizers_, self.coef_, self.intercept_, self.calibration_, self.n_features_ = {}, {}, {}, {}, {}
        for key in sorted(set(keys)):
            rows = np.flatnonzero(keys == key)
            sub = lambda seq, rows=rows: [seq[i] for i in rows]  # noqa: E731
            self.vectorizers_[key] = self._new_vectorizers(set(langs[rows]))
            X = self._transform(key, sub(joined), sub(raw), langs[rows], fit=True)
            yk, wk = y[rows], (None if w is None else w[rows])
            coef, intercept = self._fit_linear(X, yk, wk)
            self.coef_[key], self.intercept_[key] = coef, intercept
            self.n_features_[key] = X.shape[1]
            calib = np.tile([1.0, 0.0], (len(self.industries), 1))
            if self.calibration == "platt":
                calib = self._cross_fit_platt(X, yk, wk, cal[rows] if cal[rows].any() else np.ones(len(rows), bool))
            self.calibration_[key] = calib
            # The pruned-term set is only kept for introspection and can be huge.
            for v in self.vectorizers_[key]:
                if v is not None and hasattr(v, "stop_words_"):
                    v.stop_words_ = None
        return self

    def _cross_fit_platt(self, X, y, w, cal_mask) -> np.ndarray:
        """Out-of-fold scores of the calibration rows (other rows always train)."""
        cal_rows = np.flatnonzero(cal_mask)
        if len(cal_rows) < 2 * self.cv:
            return np.tile([1.0, 0.0], (y.shape[1], 1))
        oof = np.zeros((len(cal_rows), y.shape[1]))
        folds = KFold(n_splits=self.cv, shuffle=True, random_state=self.random_state)
        for train_i, test_i in folds.split(cal_rows):
            held = cal_rows[test_i]
            keep = np.ones(X.shape[0], dtype=bool)
            keep[held] = False
            coef, intercept = self._fit_linear(X[keep], y[keep], None if w is None else w[keep])
            oof[test_i] = X[held] @ coef.T.astype(np.float64) + intercept
        return self._platt(oof, y[cal_rows])

    def check_params(self) -> None:
        """Check the options whose values are a closed set, and the thresholds.

        Raises
        ------
        pipeline.errors.ConfigError
            Naming the first option with a value this class cannot use, e.g.
            ``estimator must be 'logreg' or 'sgd', not 'svm'``.
        """
        choices = {"estimator": ("logreg", "sgd"), "calibration": ("platt", "none"),
                   "en_tokenizer": ("regex", "spacy"), "zh_tokenizer": ("rjieba", "jieba")}
        for name, allowed in choices.items():
            value = getattr(self, name, allowed[0])  # a model saved before an option existed has its default
            if value not in allowed:
                raise ConfigError(f"{name} must be {' or '.join(map(repr, allowed))}, not {value!r}")
        self._threshold_table()

    def _check_fitted(self):
        if not hasattr(self, "coef_"):
            raise ValueError("TextClassifier is not fitted yet: call fit() or load_model()")

    def _scores(self, texts: Sequence[str]):
        """Decision scores (n × industries) plus what explain needs."""
        self._check_fitted()
        joined, langs, raw = _prepare(list(texts), self.en_tokenizer, getattr(self, "zh_tokenizer", "jieba"))
        keys = self._keys(langs)
        fallback = "en" if "en" in self.coef_ else next(iter(self.coef_))
        keys = np.array([k if k in self.coef_ else fallback for k in keys], dtype=object)
        scores = np.zeros((len(joined), len(self.industries)))
        parts = {"_langs": langs, "_raw": raw}
        for key in sorted(set(keys)):
            rows = np.flatnonzero(keys == key)
            X = self._transform(key, [joined[i] for i in rows], [raw[i] for i in rows], langs[rows])
            scores[rows] = X @ self.coef_[key].T.astype(np.float64) + self.intercept_[key]
            parts[key] = (rows, X)
        return scores, keys, parts

    def _calibrate(self, scores: np.ndarray, keys: np.ndarray) -> np.ndarray:
        proba = np.empty_like(scores)
        for key in set(keys):
            rows = keys == key
            a, b = self.calibration_[key][:, 0], self.calibration_[key][:, 1]
            proba[rows] = _sigmoid(scores[rows] * a + b)
        return proba

    def predict_proba(self, texts: Sequence[str]) -> pd.DataFrame:
        """Calibrated probability of each industry, one row per text (columns = industries)."""
        return self._proba(texts)[0]

    def _proba(self, texts: Sequence[str]) -> tuple[pd.DataFrame, np.ndarray]:
        if len(texts) == 0:
            self._check_fitted()
            return pd.DataFrame({i: pd.Series(dtype=float) for i in self.industries}), np.array([], dtype=object)
        scores, keys, parts = self._scores(texts)
        return pd.DataFrame(self._calibrate(scores, keys), columns=list(self.industries)), parts["_langs"]

    def proba_and_explain(self, texts: Sequence[str], top_k: int = 5
                          ) -> tuple[pd.DataFrame, np.ndarray, list[dict[str, list[tuple[str, float]]]]]:
        """:meth:`predict_proba`, the texts' languages and :meth:`explain`, from one pass of
        tokenising and scoring (each of them alone tokenises every text again)."""
        if len(texts) == 0:
            proba, langs = self._proba(texts)
            return proba, langs, []
        scores, keys, parts = self._scores(texts)
        proba = self._calibrate(scores, keys)
        langs = parts["_langs"]
        return (pd.DataFrame(proba, columns=list(self.industries)), langs,
                self._top_terms(proba >= self._thresholds_for(langs), parts, top_k))

    def predict(self, texts: Sequence[str]) -> pd.DataFrame:
        """0/1 per industry: probability at or above the threshold of the industry (in the
        text's language, when thresholds are given per language)."""
        proba, langs = self._proba(texts)
        return (proba >= self._thresholds_for(langs)).astype(int)

    def explain(self, texts: Sequence[str], top_k: int = 5) -> list[dict[str, list[tuple[str, float]]]]:
        """Top terms behind each predicted industry of each text.

        A term's weight is its contribution to the industry's decision score (TF-IDF value
        × coefficient); only positive contributions are listed, and a word that is also a
        character n-gram counts once (weights summed). Terms are words and word pairs of
        the text (English lower-cased, stop words skipped; Chinese pairs written without
        the space), or character n-grams of it.

        Returns
        -------
        list of dict
            One dict per text: predicted industry → ``[(term, weight), …]`` (at most
            ``top_k``, strongest first); industries not predicted are absent.
        """
        if len(texts) == 0:
            self._check_fitted()
            return []
        scores, keys, parts = self._scores(texts)
        return self._top_terms(self._calibrate(scores, keys) >= self._thresholds_for(parts["_langs"]), parts, top_k)

    def _top_terms(self, predicted: np.ndarray, parts: dict, top_k: int) -> list[dict]:
        """:meth:`explain`'s answer from the scored parts (rows × industries ``predicted``)."""
        raw = parts["_raw"]
        out: list[dict] = [{} for _ in range(len(predicted))]
        for key, part in parts.items():
            if key.startswith("_"):
                continue
            rows, X = part[0], part[1].tocsr()
            # A word that is also a character n-gram is one term: features of the same
            # name share an id, and ids in name order break ties between equal weights.
            names, term_of = np.unique(self._feature_names(key), return_inverse=True)
            row_of = np.repeat(np.arange(X.shape[0]), np.diff(X.indptr))
            for j in range(len(self.industries)):
                chosen = predicted[rows, j]
                for i in rows[chosen]:
                    out[i][self.industries[j]] = []
                keep = chosen[row_of]
                r, idx = row_of[keep], X.indices[keep]
                contrib = X.data[keep] * self.coef_[key][j, idx]
                pos = contrib > 0
                r, t, contrib = r[pos], term_of[idx[pos]], contrib[pos]
                if not len(r):
                    continue
                # Sum per (row, term), in the order of the row's features.
                pair = r.astype(np.int64) * len(names) + t
                order = np.argsort(pair, kind="stable")
                pair, contrib = pair[order], contrib[order]
                starts = np.flatnonzero(np.r_[True, pair[1:] != pair[:-1]])
                weight = np.add.reduceat(contrib, starts)
                r, t = pair[starts] // len(names), pair[starts] % len(names)
                # Strongest first within a row, then by name; at most top_k per row.
                order = np.lexsort((t, -weight, r))
                r, t, weight = r[order], t[order], weight[order]
                first = np.flatnonzero(np.r_[True, r[1:] != r[:-1]])
                rank = np.arange(len(r)) - np.repeat(first, np.diff(np.r_[first, len(r)]))
                top = rank < top_k
                industry = self.industries[j]
                for rr, tt, w in zip(r[top].tolist(), t[top].tolist(), weight[top].tolist(), strict=True):
                    i = rows[rr]
                    out[i][industry].append((_as_in_text(names[tt], raw[i]), round(w, 4)))
        return out

    # -- persistence: skops writes a dict node per vocabulary entry, which takes minutes
    # for 500k terms; the vocabulary travels as one newline-joined string instead.

    def __getstate__(self):
        state = dict(super().__getstate__())  # object.__getstate__ returns the live __dict__
        vecs = state.get("vectorizers_")
        if vecs is None:
            return state
        packed, terms = {}, {}
        for key, pair in vecs.items():
            packed[key], terms[key] = [], []
            for v in pair:
                if v is None:
                    packed[key].append(None)
                    terms[key].append(None)
                    continue
                vc = copy.copy(v)
                words = np.empty(len(v.vocabulary_), dtype=object)
                for term, idx in v.vocabulary_.items():
                    words[idx] = term
                del vc.vocabulary_
                packed[key].append(vc)
                terms[key].append("\n".join(words))
            packed[key] = tuple(packed[key])
            terms[key] = tuple(terms[key])
        state["vectorizers_"] = packed
        state["_vocabulary_terms"] = terms
        return state

    def __setstate__(self, state):
        state = dict(state)
        terms = state.pop("_vocabulary_terms", None)
        super().__setstate__(state)
        if terms is None:
            return
        for key, pair in self.vectorizers_.items():
            for v, joined in zip(pair, terms[key], strict=True):
                if v is not None:
                    v.vocabulary_ = {t: i for i, t in enumerate(joined.split("\n"))} if joined else {}

    def _feature_names(self, key: str) -> np.ndarray:
        word, char = self.vectorizers_[key]
        names = [word.get_feature_names_out()]
        if char is not None:
            names.append(np.char.strip(char.get_feature_names_out().astype(str)))
        return np.concatenate(names)


# ---------------------------------------------------------------------------------------
# Training data


def _clean_zh_title(title: str) -> str:
    """Strip the PDF-extraction noise of CNIPA IPC titles.

    Edition marks (``〔2,2015.01〕``, ``[2006.01``), references to other places
    (``（…入A01D42/04）``, possibly unclosed), bare symbols and the stray spaces between
    Chinese characters.
    """
    t = re.sub(r"[〔\[][\d,，.\s]*\d{4}\.\d{2}[\d,，.\s]*[〕\]]?", "", title)
    t = re.sub(r"〔\d+(?:[,，]\d+)*〕", "", t)
    t = re.sub(r"[（(][^（()）]*入\s*[A-H][^（()）]*[）)]", "", t)  # "(… see X …)" references
    t = re.sub(r"[（(][^（()）]*入\s*[A-H].*$", "", t)  # an unclosed one at the end
    # Clauses left from nested references ("…；蘑菇的收获入 A01G18/70）").
    t = "；".join(c for c in t.split("；") if not re.search(r"入\s*[A-H]\d{2}[A-Z]", c))
    t = re.sub(r"[（(]?[^（()）]*[A-H]\d{2}[A-Z]\s*\d+/\d+\s*优先[）)]?", "", t)  # "(A01D44/00优先)"
    t = t.replace("）", "").replace("（", "") if t.count("（") != t.count("）") else t
    t = re.sub(r"[A-H]\d{2}[A-Z]\s*\d+/\d+(?:\s*[-—～~]\s*[A-H]?\d*[A-Z]?\s*\d+/\d+)?", "", t)
    t = re.sub(r"(?<=[\u4e00-\u9fff，；、])\s+(?=[\u4e00-\u9fff，；、（(])", "", t)
    t = re.sub(r"(?<=[\u4e00-\u9fff])\s+", "", t)
    t = _SPACE.sub(" ", t).strip(" ，；、.…·")
    return t


def load_ipc_titles(zh_path: str | Path, en_path: str | Path, symbols=None) -> pd.DataFrame:
    """IPC titles in both languages: columns ``symbol``, ``lang``, ``title``.

    Parameters
    ----------
    zh_path : path
        CNIPA Chinese titles, TSV ``code level title_zh`` (``ipc_titles_zh.tsv``).
    en_path : path
        English titles, TSV (optionally gzip) with ``ipc`` and ``title`` where a
        subgroup's title already carries its ancestors separated by ``;;``
        (``ipc_titles_en.tsv.gz``).
    symbols : iterable of str, optional
        Only these symbols (canonical form). Their rows are the rows of the full table:
        cleaning ~70,000 Chinese titles costs seconds, and a stage that labels a few
        hundred clusters needs a few hundred.

    Returns
    -------
    DataFrame
        One row per symbol and language, symbols in canonical form (``H01M10/0525``;
        subclasses ``H01M``). Chinese subgroup titles, which lack context ("用机械装置的"),
        are prefixed with their main group's title. Titles left empty by cleaning (PDF
        placeholders such as ``.``) are dropped. Section and class rows are dropped.
    """
    zh = pd.read_csv(zh_path, sep="\t", dtype=str, keep_default_na=False, quoting=3)
    zh = zh[zh["level"].isin(["subclass", "main_group", "subgroup"])].copy()
    zh["symbol"] = zh["code"].str.replace(" ", "", regex=False)
    if symbols is not None:
        wanted = pd.Index(pd.unique(pd.Series(list(symbols), dtype=object).dropna()))
        # A subgroup's title is prefixed with its main group's, so that one is read too.
        zh = zh[zh["symbol"].isin(wanted.append(wanted.str.replace(r"/\d+$", "/00", regex=True)))]
    zh["title"] = zh["title_zh"].map(_clean_zh_title)
    zh = zh[zh["title"].str.contains(_CJK.pattern, regex=True)]
    main = zh[zh["level"] == "main_group"].set_index("symbol")["title"]
    sub = zh["level"] == "subgroup"
    parent = zh.loc[sub, "symbol"].str.replace(r"/\d+$", "/00", regex=True).map(main)
    zh.loc[sub, "title"] = parent.fillna("").where(parent.isna(), parent + "：") + zh.loc[sub, "title"]

    opener = gzip.open if str(en_path).endswith(".gz") else open
    with opener(en_path, "rt", encoding="utf-8") as fh:
        en = pd.read_csv(fh, sep="\t", dtype=str, keep_default_na=False, quoting=3)
    en = en[en["ipc"].str.match(r"^[A-H]\d{2}[A-Z]\d+/\d+$")].copy()
    if symbols is not None:
        en = en[en["ipc"].isin(wanted)]
    en["symbol"] = en["ipc"]
    # Keep the last three levels: enough context, without the generic top of the chain.
    en["title"] = en["title"].str.split(";;").map(lambda parts: "; ".join(p.strip() for p in parts[-3:] if p.strip()))
    en = en[en["title"] != ""]

    out = pd.concat(
        [zh.assign(lang="zh")[["symbol", "lang", "title"]], en.assign(lang="en")[["symbol", "lang", "title"]]],
        ignore_index=True,
    )
    if symbols is not None:
        out = out[out["symbol"].isin(wanted)]
    return out.drop_duplicates(["symbol", "lang"]).reset_index(drop=True)


def _mentions(text: str, terms: Sequence[str]) -> bool:
    low = text.lower()
    return any(t.lower() in low for t in terms)


def _taxonomy(taxonomy) -> Mapping:
    """The loaded taxonomy: a mapping as given, or read from a path (default: the rules')."""
    if isinstance(taxonomy, Mapping):
        return taxonomy
    from .rules import TAXONOMY_PATH

    return parse_yaml(Path(taxonomy or TAXONOMY_PATH).read_text(encoding="utf-8"))


def condition_terms(rules, taxonomy: Mapping | str | Path | None = None) -> dict[str, list[str]]:
    """Terms a text must contain for each rule with ``text_condition: require_keywords``.

    The taxonomy keeps SEI keyword cells as prose ("汽车相关关键词", "以…新型能源驱动的汽车");
    its ``text_conditions`` entries say which terms each kind of cell asks for (the first entry
    whose ``cell`` occurs in the rule's keyword text). A rule no entry explains needs one of its
    branch's ``keywords`` (zh and en).

    Parameters
    ----------
    rules : RuleSet
        :func:`pipeline.classify.rules.load_rules`.
    taxonomy : mapping or path, optional
        The taxonomy the rules were loaded from (default ``pipeline/data/taxonomy.yaml``).
    """
    tax = _taxonomy(taxonomy)
    kw = {}
    for ind, ispec in (tax.get("industries") or {}).items():
        for br, bspec in (ispec.get("branches") or {}).items():
            k = bspec.get("keywords") or {}
            kw[f"{ind}.{br}"] = [*k.get("zh", []), *k.get("en", [])]
    kinds = [(e["cell"], [*e.get("zh", []), *e.get("en", [])]) for e in tax.get("text_conditions") or []]
    table = rules.rules
    cond = table[table["text_condition"] == "require_keywords"].drop_duplicates("rule_id")
    out = {}
    cells = cond["keywords_zh"].fillna("") if "keywords_zh" in cond else pd.Series("", index=cond.index)
    for r, b, cell in zip(cond["rule_id"], cond["branch"], cells, strict=True):
        out[str(r)] = next((terms for c, terms in kinds if c in str(cell)), kw.get(str(b), []))
    return out


def off_scope_terms(taxonomy: Mapping | str | Path | None = None) -> dict[str, dict[str, list[str]]]:
    """Per industry, the terms that put a text outside it (``terms``) and those that keep it in
    (``unless``), from the taxonomy's ``off_scope`` entries (zh and en together).

    Examples
    --------
    >>> tax = {"industries": {"nev": {"off_scope": {"terms": {"zh": ["飞机"], "en": ["aircraft"]},
    ...                                             "unless": {"zh": ["汽车"]}}}, "it": {}}}
    >>> off_scope_terms(tax)
    {'nev': {'terms': ['飞机', 'aircraft'], 'unless': ['汽车']}}
    """
    out = {}
    for ind, ispec in (_taxonomy(taxonomy).get("industries") or {}).items():
        spec = (ispec or {}).get("off_scope")
        if spec:
            out[ind] = {key: [*(spec.get(key) or {}).get("zh", []), *(spec.get(key) or {}).get("en", [])]
                        for key in ("terms", "unless")}
    return out


def taxonomy_texts(taxonomy: Mapping | str | Path | None = None, *,
                   industries: Sequence[str] = INDUSTRIES) -> pd.DataFrame:
    """The taxonomy's own words as labelled texts: branch names, descriptions, keywords.

    IPC titles speak the classification's formal language ("电动车辆", "electric
    propulsion"); patents and the taxonomy's keywords use today's words ("电动汽车",
    "动力电池", "CAR-T"). Each keyword, name and description becomes one short text
    labelled with its industry, in its language.

    Parameters
    ----------
    taxonomy : mapping or path, optional
        Default ``pipeline/data/taxonomy.yaml``.
    industries : sequence of str
        Label columns.

    Returns
    -------
    DataFrame
        Same columns as :func:`build_training_set` with ``source == "taxonomy"``; weight
        them up when fitting (``evaluation.fit_model`` uses 10).
    """
    taxonomy = _taxonomy(taxonomy)
    industries = list(industries)
    rows = []
    for ind, ispec in (taxonomy.get("industries") or {}).items():
        if ind not in industries:
            continue
        for br, bspec in (ispec.get("branches") or {}).items():
            bid = f"{ind}.{br}"
            for lang in ("zh", "en"):
                texts = [bspec.get(lang), (bspec.get("description") or {}).get(lang),
                         *((bspec.get("keywords") or {}).get(lang) or [])]
                for k, text in enumerate(t for t in texts if isinstance(t, str) and t.strip()):
                    rows.append({"id": f"{bid}:{lang}:{k}", "text": text.strip(), "industry": ind})
    out = pd.DataFrame(rows, columns=["id", "text", "industry"])
    out.insert(2, "lang", [detect_language(t) for t in out["text"]])
    out.insert(3, "source", "taxonomy")
    out.insert(4, "year", pd.array([pd.NA] * len(out), dtype="Int64"))
    for ind in industries:
        out[ind] = (out["industry"] == ind).astype("int8")
    return out.drop(columns="industry")


def build_training_set(
    patents: pd.DataFrame,
    rule_labels: pd.DataFrame,
    ipc_titles: pd.DataFrame,
    *,
    classifications: pd.DataFrame,
    title_labels: pd.DataFrame,
    industries: Sequence[str] = INDUSTRIES,
    subclass_only: str = "drop",
    condition_terms: Mapping[str, Sequence[str]] | None = None,
) -> pd.DataFrame:
    """Labelled texts for :class:`TextClassifier`: real records and IPC titles.

    Parameters
    ----------
    patents : DataFrame
        Canonical ``patents`` table (``pub_id``, ``title``, ``abstract``, ``sources``,
        ``pub_date``/``app_date``).
    rule_labels : DataFrame
        :func:`pipeline.classify.rules.rule_labels` of ``classifications``.
    ipc_titles : DataFrame
        :func:`load_ipc_titles`.
    classifications : DataFrame
        Canonical ``classifications`` table: a record with codes but no rule label is a
        negative of every industry, so the records *with codes* must be known.
    title_labels : DataFrame
        :func:`pipeline.classify.rules.symbol_labels` of ``ipc_titles.symbol``.
    industries : sequence of str
        Label columns.
    subclass_only : {"drop", "positive"}
        What to do with a record or title whose label for an industry rests only on a
        bare subclass (``match == "subclass_only"``: the rule covers part of the
        subclass, the record says no more): drop the row (default; evaluation showed
        these labels are mostly wrong) or count it as positive.
    condition_terms : mapping, optional
        Rule id → terms, for the rules whose SEI keyword cell is a condition on the text
        (``text_condition: require_keywords``; see :func:`condition_terms`). A label
        fired by such a rule counts only if the record's (or title's) text contains one
        of the terms; otherwise the record is not in that branch by the concordance's own
        definition. ``None`` takes codes alone.

    Returns
    -------
    DataFrame
        Columns ``id`` (pub_id or symbol), ``text``, ``lang``, ``source`` (first source of
        the record, or ``ipc_titles``), ``year`` (publication year, else filing year;
        null for titles) and one 0/1 column per industry.
    """
    if subclass_only not in ("drop", "positive"):
        raise ConfigError(f"subclass_only must be 'drop' or 'positive', not {subclass_only!r}")
    industries = list(industries)

    def label_frame(ids: pd.Series, lbl: pd.DataFrame, key: str, texts: pd.Series) -> tuple[pd.DataFrame, pd.Index]:
        lbl = lbl[lbl["industry"].isin(industries)]
        if condition_terms:
            cond = lbl["rule_id"].isin(list(condition_terms))
            text_of = texts.groupby(ids.to_numpy()).first()
            met = [_mentions(text_of.get(k, ""), condition_terms[r]) for k, r in
                   zip(lbl.loc[cond, key], lbl.loc[cond, "rule_id"], strict=True)]
            keep = pd.Series(True, index=lbl.index)
            keep[cond] = met
            lbl = lbl[keep]
        certain = lbl[lbl["match"] != "subclass_only"]
        pos = certain.assign(v=1).pivot_table(index=key, columns="industry", values="v", aggfunc="max")
        pos = pos.reindex(index=pd.Index(ids.unique()), columns=industries).fillna(0).astype("int8")
        weak = lbl[lbl["match"] == "subclass_only"][[key, "industry"]].drop_duplicates()
        weak_only = weak[[pos.at[k, i] == 0 for k, i in zip(weak[key], weak["industry"], strict=True)]] \
            if len(weak) else weak
        if subclass_only == "positive":
            for k, i in zip(weak_only[key], weak_only["industry"], strict=True):
                pos.at[k, i] = 1
            return pos, pd.Index([])
        return pos, pd.Index(weak_only[key].unique())

    coded = pd.Index(classifications["pub_id"].astype(str).unique())
    p = patents[patents["pub_id"].astype(str).isin(coded)].copy()
    title = p["title"].astype("string").fillna("").str.strip()
    abstract = p["abstract"].astype("string").fillna("").str.strip() if "abstract" in p else ""
    p["text"] = (title + "\n" + abstract).str.strip()
    p = p[p["text"] != ""]
    date = pd.to_datetime(p.get("pub_date"), errors="coerce")
    if "app_date" in p:
        date = date.fillna(pd.to_datetime(p["app_date"], errors="coerce"))
    recs = pd.DataFrame({
        "id": p["pub_id"].astype(str).to_numpy(),
        "text": p["text"].astype(str).to_numpy(),
        "source": primary_source(p["sources"]).to_numpy(),
        "year": date.dt.year.astype("Int64").to_numpy(),
    })
    pos, drop = label_frame(recs["id"], rule_labels.assign(pub_id=rule_labels["pub_id"].astype(str)), "pub_id",
                            recs["text"])
    recs = recs[~recs["id"].isin(drop)]
    recs = recs.join(pos, on="id")

    t = ipc_titles[ipc_titles["symbol"].str.len() >= 4].copy()
    tpos, tdrop = label_frame(t["symbol"], title_labels, "symbol", t["title"])
    t = t[~t["symbol"].isin(tdrop)]
    titles = pd.DataFrame({
        "id": t["symbol"].to_numpy(),
        "text": t["title"].to_numpy(),
        "source": "ipc_titles",
        "year": pd.array([pd.NA] * len(t), dtype="Int64"),
    }).join(tpos, on="id")

    out = pd.concat([recs, titles], ignore_index=True)
    out.insert(2, "lang", [detect_language(x) for x in out["text"]])
    out[industries] = out[industries].fillna(0).astype("int8")
    return out.reset_index(drop=True)


# ---------------------------------------------------------------------------------------
# Persistence


def save_model(model: TextClassifier, path: str | Path) -> Path:
    """Write a fitted :class:`TextClassifier` in the skops format (no pickle).

    The same model gives the same bytes on every run and machine (:func:`_stable_skops`),
    so its MD5 in ``dvc.lock`` and the reports changes only with its content; the file is
    swapped in whole (:func:`pipeline.io.write_bytes_atomic`).
    """
    import skops.io as sio

    from ..io import write_bytes_atomic, zip_bytes

    if not isinstance(model, TextClassifier):
        raise TypeError(f"save_model expects a TextClassifier, got {type(model).__name__}")
    model._check_fitted()
    for vectorizers in model.vectorizers_.values():
        for v in vectorizers:
            # scikit-learn caches id(stop_words) on a vectorizer that has built its analyzer:
            # a memory address, other in every process (the file would differ between runs).
            if v is not None:
                v.__dict__.pop("_stop_words_id", None)
    return write_bytes_atomic(zip_bytes(_stable_skops(sio.dumps(model))), path)


def _stable_skops(data: bytes) -> list[tuple[str, bytes]]:
    """The entries of a skops file without what varies between runs.

    skops names objects by their Python ``id()`` (``"__id__"`` in ``schema.json`` and the
    array files ``<id>.npy``), which differs on every run, and dates each ZIP entry with
    the clock. Here ids are renumbered 1, 2, … in the schema's own (deterministic) order —
    equal ids stay equal, so shared objects are still loaded once — array files are
    renamed to match, and :func:`pipeline.io.zip_bytes` writes the entries undated.
    """
    import io as _io
    import json
    import zipfile

    with zipfile.ZipFile(_io.BytesIO(data)) as z:
        blobs = {name: z.read(name) for name in z.namelist()}
    schema = json.loads(blobs.pop("schema.json"))
    ids: dict[int, int] = {}
    files: dict[str, str] = {}

    def walk(node):
        if isinstance(node, dict):
            for key, value in node.items():
                if key == "__id__" and isinstance(value, int):
                    node[key] = ids.setdefault(value, len(ids) + 1)
                elif key == "file" and isinstance(value, str) and value in blobs:
                    node[key] = files.setdefault(value, f"{len(files) + 1}{Path(value).suffix}")
                else:
                    walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(schema)
    # Entries the schema does not name are never loaded: they are left out.
    entries = [(new, blobs[old]) for old, new in files.items()]
    return entries + [("schema.json", json.dumps(schema, indent=2).encode("utf-8"))]


def _types_in_file(path: Path) -> set[str]:
    """Every type named in a skops file's schema (read as JSON: nothing is executed)."""
    import json
    import zipfile

    with zipfile.ZipFile(path) as z:
        schema = json.loads(z.read("schema.json"))
    found: set[str] = set()
    stack = [schema]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            if "__class__" in node and "__module__" in node:
                found.add(f"{node['__module__']}.{node['__class__']}")
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)
    return found


def load_model(path: str | Path, *, trusted: Sequence[str] = TRUSTED_TYPES) -> TextClassifier:
    """Load a model written by :func:`save_model`, refusing anything unexpected.

    Every type named in the file is checked against the explicit ``trusted`` list first
    (skops' own default trust is not relied on); only then is the file loaded, with skops
    told to trust exactly those types.

    Raises
    ------
    ModelFileError
        The file is not readable as skops, names a type outside ``trusted`` (listed in
        the message), or does not hold a fitted :class:`TextClassifier`.
    """
    import skops.io as sio

    path = Path(path)
    try:
        found = _types_in_file(path)
        skops_untrusted = sio.get_untrusted_types(file=path)
    except Exception as exc:  # zip/JSON errors of a damaged or foreign file
        raise ModelFileError(f"{path}: not a readable skops model file ({exc})") from None
    unexpected = sorted((found | set(skops_untrusted)) - set(trusted))
    if unexpected:
        raise ModelFileError(
            f"{path}: refusing to load, the file holds type(s) outside the trusted list: {', '.join(unexpected)}"
        )
    model = sio.load(path, trusted=list(skops_untrusted))
    if not isinstance(model, TextClassifier):
        raise ModelFileError(f"{path}: holds a {type(model).__name__}, not a TextClassifier")
    if not hasattr(model, "coef_"):
        raise ModelFileError(f"{path}: holds a TextClassifier that was never fitted; run `patnav train`")
    return model


# ---------------------------------------------------------------------------------------
# Evaluation


def _prf(y: np.ndarray, p: np.ndarray) -> dict:
    tp = int(((y == 1) & (p == 1)).sum())
    fp = int(((y == 0) & (p == 1)).sum())
    fn = int(((y == 1) & (p == 0)).sum())
    tn = int(((y == 0) & (p == 0)).sum())
    prec = tp / (tp + fp) if tp + fp else 0.0
    rec = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * prec * rec / (prec + rec) if prec + rec else 0.0
    return {"precision": round(prec, 4), "recall": round(rec, 4), "f1": round(f1, 4), "support": tp + fn,
            "tp": tp, "fp": fp, "fn": fn, "tn": tn}


def _scores_block(y: pd.DataFrame, pred: pd.DataFrame, industries: Sequence[str]) -> dict:
    per = {i: _prf(y[i].to_numpy(), pred[i].to_numpy()) for i in industries}
    with_pos = [i for i in industries if per[i]["support"] > 0]
    macro = float(np.mean([per[i]["f1"] for i in with_pos])) if with_pos else float("nan")
    # Multi-label confusion: for each true industry (or none), how often each industry
    # (or none) was predicted.
    true_sets = y[list(industries)].to_numpy().astype(bool)
    pred_sets = pred[list(industries)].to_numpy().astype(bool)
    rows = [*industries, "none"]
    table = pd.DataFrame(0, index=rows, columns=rows, dtype=int)
    for t_row, p_row in zip(true_sets, pred_sets, strict=True):
        t_names = [industries[k] for k in np.flatnonzero(t_row)] or ["none"]
        p_names = [industries[k] for k in np.flatnonzero(p_row)] or ["none"]
        for a in t_names:
            for b in p_names:
                table.at[a, b] += 1
    return {"n": int(len(y)), "per_industry": per, "macro_f1": round(macro, 4),
            "macro_over": with_pos, "confusion": table.to_dict(orient="index")}


def evaluate(model: TextClassifier, test: pd.DataFrame) -> dict:
    """Precision, recall and F1 per industry, macro-F1 and a confusion table, by language.

    Parameters
    ----------
    model : TextClassifier
        Fitted.
    test : DataFrame
        ``text`` and one 0/1 column per industry; ``lang`` optional (detected if absent).

    Returns
    -------
    dict
        ``{"all": block, "en": block, "zh": block}`` (languages present only); a block has
        ``n``, ``per_industry`` (precision, recall, f1, support, tp, fp, fn, tn),
        ``macro_f1`` (over industries with positives, listed in ``macro_over``) and
        ``confusion`` (true industry or "none" → predicted industry or "none" → count).
    """
    industries = list(model.industries)
    if len(test) == 0:
        return {"all": {"n": 0, "per_industry": {}, "macro_f1": float("nan"), "macro_over": [], "confusion": {}}}
    missing = [c for c in ["text", *industries] if c not in test.columns]
    if missing:
        raise ClassifierInputError(f"test set lacks column(s): {', '.join(missing)}")
    test = test.reset_index(drop=True)
    pred = model.predict(test["text"].tolist())
    langs = test["lang"] if "lang" in test else pd.Series([detect_language(t) for t in test["text"]])
    out = {"all": _scores_block(test, pred, industries)}
    for lg in sorted(set(langs)):
        m = (langs == lg).to_numpy()
        out[lg] = _scores_block(test[m].reset_index(drop=True), pred[m].reset_index(drop=True), industries)
    return out
