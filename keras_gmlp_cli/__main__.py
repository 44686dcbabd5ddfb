import sys

from keras_gmlp_cli import main

sys.exit(main())
