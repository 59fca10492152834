import os
import sys

# the sample application, importable from the tests wherever pytest starts
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
