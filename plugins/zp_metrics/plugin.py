"""Hook implementations of the zp_metrics built-in plugin (paper appendix A.2)."""

from __future__ import annotations

from zp_evolve import hookimpl
from zp_metrics.checks import binary_only, classification_only, generation_only
from zp_metrics.classification import accuracy, auc, micro_f1
from zp_metrics.generation import pos_f1, rouge1, string_f1


@hookimpl
def zp_register_metrics(register):
    register("auc", auc, check_task=binary_only, description="ROC-AUC of binary tasks from label scores (0.5 if one class only)")
    register("micro_f1", micro_f1, check_task=classification_only, description="micro-averaged F1 of the argmax labels")
    register("accuracy", accuracy, description="share of exact answers (argmax label or stripped string)")
    register("rouge1", rouge1, check_task=generation_only, description="ROUGE-1 F-measure, CJK tokenised by character")
    register("string_f1", string_f1, check_task=generation_only, description="SQuAD-style token F1, CJK by character")
    register("pos_f1", pos_f1, check_task=generation_only, description="NER Pos-F1: string F1 averaged over non-'blank' references")
