/*
# A custom check type, used as `- share_of: {values: [...], max: 0.5}` under a column (docs/checks.md,
# Custom check types). This header (YAML) declares its kind and parameters; the body below is SQL,
# with the column and the parameters written {{ name }}.
kind: metric
doc: The share of the rows whose column is one of `values`; bound it with min / max where you use it.
params:
  values: {type: values, doc: The values counted.}
*/
avg(case when {{ column }} in ({{ values }}) then 1 else 0 end)
