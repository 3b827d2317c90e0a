"""Built-in metrics (paper appendix A.2): auc, micro_f1, accuracy, rouge1, string_f1, pos_f1."""
