import sys

from keras_gmlp.cli import main

sys.exit(main())
