"""The tasks behind the command line, each a typed description of what is asked and a
function that does it (:mod:`stdpsim.cli` only parses options into them).

=================  ==========================================================
module             tasks
=================  ==========================================================
``figure1``        the STDP-curve experiment (Figure 1)
``training``       training the rate model and the spiking learner
``sampling``       GENERATE (rate or spiking) and its Parzen evaluation
``inference``      log p(x, h) along INFERENCE (Figure 4) and spiking INFERENCE
``inpainting``     in-painting (Figure 5), rate or spiking
``raster``         a spike raster of any saved run
``network``        the spiking network's options, shared by the spiking tasks
``common``         data split, test images, output folders, model cards
=================  ==========================================================
"""
