"""Synthetic data: the fictional demo borough and service extracts with planted take-up.

* :func:`pipeline.synth.borough.generate_demo` writes Demoborough (E06009999) in real ONS and
  council formats, as listed in ``config/demo.yaml``.
* :func:`pipeline.synth.extracts.generate_extracts` and
  :func:`pipeline.synth.extracts.generate_for_real_area` write five service extracts with
  realistic dirt and the truth, over the demo borough or a real area.

The reference tables ``census_structure.csv``, ``type_profiles.csv`` and ``type_totals.csv`` are
derived from Census 2021 (ONS, OGL v3) and the 2021 OAC (ONS/UCL) by
:mod:`pipeline.synth.derive_type_profiles`.
"""
