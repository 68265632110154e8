"""Tools that make and check the bank's media: speech synthesis (``synth``), pictures
(``pictures``) and listening by proxy (``listen``)."""
